import type { Knex } from 'knex';

// Reconciliation reports: our captures and refunds against the payment provider's records, per organization
// and range of local dates [from_date, to_date). One report per range: a rerun (the schedule's catch-up, an
// API call) replaces its totals and differences in place and keeps its id, so the report of a range is always
// the latest comparison and a difference fixed since disappears.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reconciliation_reports', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.date('from_date').notNullable();
    t.date('to_date').notNullable();
    t.text('time_zone').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('status').notNullable().checkIn(['clean', 'differences']);
    t.integer('lag_seconds').notNullable();
    t.decimal('gross_revenue', 18, 4).notNullable();
    t.decimal('refunds', 18, 4).notNullable();
    t.decimal('processing_fees', 18, 4).notNullable();
    t.decimal('disputes', 18, 4).notNullable();
    t.decimal('dispute_fees', 18, 4).notNullable();
    t.decimal('other_fees', 18, 4).notNullable();
    t.decimal('net_settled', 18, 4).notNullable();
    t.integer('difference_count').notNullable();
    t.jsonb('difference_counts').notNullable();
    t.integer('deferred_count').notNullable();
    t.text('workflow_id');
    t.timestamp('generated_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['organization_id', 'from_date', 'to_date']);
  });

  await knex.schema.createTable('reconciliation_differences', (t) => {
    t.text('report_id').notNullable().references('reconciliation_reports.id').onDelete('CASCADE');
    // Order within the report (by time, then kind): the list's cursor.
    t.integer('position').notNullable();
    t.text('kind').notNullable();
    t.text('side').checkIn(['platform', 'provider']);
    t.text('payment_id');
    t.text('provider_payment_id');
    t.text('refund_id');
    t.text('provider_refund_id');
    t.text('dispute_id');
    t.text('provider_dispute_id');
    t.text('provider_balance_transaction_id');
    t.decimal('platform_amount', 18, 4);
    t.decimal('provider_amount', 18, 4);
    t.specificType('currency', 'char(3)').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.text('detail').notNullable();
    t.primary(['report_id', 'position']);
    t.index(['report_id', 'kind', 'position']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('reconciliation_differences');
  await knex.schema.dropTableIfExists('reconciliation_reports');
}
