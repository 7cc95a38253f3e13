import type { Knex } from 'knex';

// A StopTransaction for a transaction the platform never saw (its StartTransaction was lost, or the charge
// point's memory was reset) is acknowledged, so the charge point stops resending it, and kept here for the
// operator: the energy was delivered and somebody decides whether and how to bill it. A resent stop is the
// same row (unique per charge point and transaction id).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orphan_sessions', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('charge_point_id').notNullable().references('charge_points.id');
    t.integer('transaction_id').notNullable();
    t.string('id_tag', 20);
    t.decimal('meter_stop_wh', 18, 3).notNullable();
    t.timestamp('stopped_at', { useTz: true }).notNullable();
    t.text('stop_reason');
    t.jsonb('transaction_data');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('resolved_at', { useTz: true });
    t.text('resolution');
    t.unique(['charge_point_id', 'transaction_id']);
    t.index(['organization_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('orphan_sessions');
}
