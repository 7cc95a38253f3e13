import type { Knex } from 'knex';

// Monthly invoices per organization. A session is billed on at most one live invoice: invoice_sessions is
// keyed by the session. A credit note is applied to at most one (credit_notes.applied_invoice_id). Both are
// written in the transaction that issues the invoice, so closing a period twice cannot bill anything twice.
// Invoice lines are not copied: a session's lines are its receipt's (immutable), read through
// invoice_sessions, and a credit note's are its own; a narrow row per session keeps a month of 100,000
// sessions quick to close.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('invoices', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    // yyyy-mm in the organization's time zone.
    t.string('period', 7).notNullable();
    t.date('period_start').notNullable();
    t.date('period_end').notNullable();
    t.text('status').notNullable().checkIn(['draft', 'issued', 'paid', 'void']);
    t.text('number');
    t.specificType('currency', 'char(3)').notNullable();
    t.integer('session_count').notNullable().defaultTo(0);
    t.decimal('total_excl_vat', 18, 4).notNullable().defaultTo(0);
    t.decimal('total_vat', 18, 4).notNullable().defaultTo(0);
    t.decimal('total', 18, 4).notNullable().defaultTo(0);
    // Paid by card at the charger on sessions only partly paid there: deducted from what is payable.
    t.decimal('amount_prepaid', 18, 4).notNullable().defaultTo(0);
    t.decimal('amount_payable', 18, 4).notNullable().defaultTo(0);
    t.jsonb('vat_breakdown').notNullable().defaultTo('[]');
    t.timestamp('issued_at', { useTz: true });
    t.timestamp('due_at', { useTz: true });
    t.timestamp('paid_at', { useTz: true });
    t.text('payment_method').checkIn(['card', 'bank_transfer']);
    t.text('payment_reference');
    t.timestamp('voided_at', { useTz: true });
    t.text('void_reason');
    t.binary('pdf');
    t.timestamp('emailed_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['organization_id', 'number']);
  });
  // One live invoice per period; a voided one leaves room for its replacement.
  await knex.raw(
    "CREATE UNIQUE INDEX invoices_one_per_period ON invoices (organization_id, period) WHERE status <> 'void'",
  );

  // No foreign keys here: checked row by row, they were most of the time a closing of 100,000 sessions took
  // (bench/invoice.ts). The one writer inserts ids it read in the same transaction from the tables they
  // name, and neither sessions nor invoices are ever deleted.
  await knex.schema.createTable('invoice_sessions', (t) => {
    t.text('session_id').primary();
    t.text('invoice_id').notNullable();
    t.index(['invoice_id']);
  });
  await knex.schema.alterTable('credit_notes', (t) => {
    t.text('applied_invoice_id').references('invoices.id');
  });
  await knex.schema.alterTable('organizations', (t) => {
    t.text('payment_customer_id');
    t.text('payment_method_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('organizations', (t) => {
    t.dropColumns('payment_customer_id', 'payment_method_id');
  });
  await knex.schema.alterTable('credit_notes', (t) => {
    t.dropColumn('applied_invoice_id');
  });
  await knex.schema.dropTable('invoice_sessions');
  await knex.schema.dropTable('invoices');
}
