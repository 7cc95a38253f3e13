import type { Knex } from 'knex';

// Exemptions (a request to waive a session's charge, decided by an owner or billing delegate), the credit
// notes an approval issues, gapless document numbers per organization, and the e-mails sent, keyed so that
// a retried activity does not send twice.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('exemptions', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('session_id').notNullable().references('charging_sessions.id');
    t.text('requested_by').notNullable().references('members.id');
    t.text('reason').notNullable();
    // Null: the whole charge.
    t.decimal('amount', 18, 4);
    t.specificType('currency', 'char(3)').notNullable();
    t.text('status').notNullable().checkIn(['pending', 'approved', 'rejected', 'expired']);
    t.text('decided_by').references('members.id');
    t.text('decision_note');
    t.timestamp('decided_at', { useTz: true });
    t.timestamp('reminded_at', { useTz: true });
    t.text('reversal').checkIn(['hold_canceled', 'refunded', 'invoice_credit']);
    t.text('refund_id');
    t.decimal('amount_reversed', 18, 4);
    t.timestamp('reversed_at', { useTz: true });
    t.text('workflow_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['organization_id', 'status']);
  });
  // A session has at most one open or approved exemption.
  await knex.raw(
    "CREATE UNIQUE INDEX exemptions_one_live_per_session ON exemptions (session_id) WHERE status IN ('pending', 'approved')",
  );

  await knex.schema.createTable('document_numbers', (t) => {
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('kind').notNullable();
    t.integer('last_number').notNullable();
    t.primary(['organization_id', 'kind']);
  });

  await knex.schema.createTable('credit_notes', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('number').notNullable();
    t.text('exemption_id').notNullable().unique().references('exemptions.id');
    t.text('session_id').notNullable().references('charging_sessions.id');
    t.text('receipt_id').notNullable().references('receipts.id');
    t.specificType('currency', 'char(3)').notNullable();
    t.decimal('total_excl_vat', 18, 4).notNullable();
    t.decimal('total_vat', 18, 4).notNullable();
    t.decimal('total', 18, 4).notNullable();
    t.jsonb('lines').notNullable();
    t.binary('pdf').notNullable();
    t.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['organization_id', 'number']);
  });

  await knex.schema.createTable('sent_emails', (t) => {
    t.text('key').primary();
    t.text('organization_id').references('organizations.id');
    t.text('to').notNullable();
    t.text('subject').notNullable();
    t.text('message_id');
    t.timestamp('sent_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sent_emails');
  await knex.schema.dropTable('credit_notes');
  await knex.schema.dropTable('document_numbers');
  await knex.schema.dropTable('exemptions');
}
