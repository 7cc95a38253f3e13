import type { Knex } from 'knex';

// MeterValues are acknowledged once committed here, in about a millisecond, instead of after a Temporal
// signal (hundreds of milliseconds on the dev server: ARCHITECTURE.md). The bridge relays the rows to the
// session's workflow in batches, in arrival order, and deletes them once the signal is accepted; rows left
// by a bridge that died are relayed by the next sweep. A row is never lost before its signal is.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('meter_inbox', (t) => {
    t.bigIncrements('id');
    t.text('session_id').notNullable().references('charging_sessions.id');
    t.text('workflow_id').notNullable();
    t.jsonb('readings').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['workflow_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('meter_inbox');
}
