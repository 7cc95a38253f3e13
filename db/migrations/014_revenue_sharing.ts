import type { Knex } from 'knex';

// Revenue sharing: parties (a building owner, the operator, ...) get percentage splits of a project's or a
// site's session revenue, a statement per party and month, and a payout when the balance reaches the rule's
// minimum. What the revenue base is, and how parts are rounded, is written down in
// db/repositories/revenueStatements.ts and pricing/revenue-split.ts.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('revenue_parties', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('name').notNullable();
    // A Stripe Connect account (acct_...): paid by transfer. Without one, payouts are exported for a bank
    // transfer to `iban`.
    t.text('connected_account_id');
    t.text('iban');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['organization_id']);
  });

  // Rules are never edited: a new rule for the same project or site replaces the active one, so the splits a
  // session was shared with stay readable for the refunds that come later.
  await knex.schema.createTable('revenue_share_rules', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('project_id').references('projects.id');
    t.text('site_id').references('sites.id');
    t.specificType('currency', 'char(3)').notNullable();
    t.decimal('minimum_payout', 18, 4).notNullable().defaultTo(0);
    // yyyy-mm in the organization's time zone: sessions that ended earlier are not shared by this rule, so
    // introducing sharing on an existing site does not pay out its history.
    t.string('effective_from', 7).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('deactivated_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['organization_id']);
  });
  await knex.raw(
    'ALTER TABLE revenue_share_rules ADD CONSTRAINT revenue_share_rules_one_scope CHECK ((project_id IS NULL) <> (site_id IS NULL))',
  );
  await knex.raw(
    'ALTER TABLE revenue_share_rules ADD CONSTRAINT revenue_share_rules_minimum CHECK (minimum_payout >= 0)',
  );
  // One active rule per project and per site; a site's rule wins over its project's.
  await knex.raw(
    'CREATE UNIQUE INDEX revenue_share_rules_one_per_site ON revenue_share_rules (site_id) WHERE active AND site_id IS NOT NULL',
  );
  await knex.raw(
    'CREATE UNIQUE INDEX revenue_share_rules_one_per_project ON revenue_share_rules (project_id) WHERE active AND project_id IS NOT NULL',
  );

  // The percentages add up to exactly 100, checked where a rule is written (one insert of all its splits).
  await knex.schema.createTable('revenue_share_splits', (t) => {
    t.text('rule_id').notNullable().references('revenue_share_rules.id');
    t.integer('position').notNullable();
    t.text('party_id').notNullable().references('revenue_parties.id');
    t.decimal('percent', 7, 4).notNullable();
    t.primary(['rule_id', 'position']);
    t.unique(['rule_id', 'party_id']);
    t.index(['party_id']);
  });
  await knex.raw(
    'ALTER TABLE revenue_share_splits ADD CONSTRAINT revenue_share_splits_percent CHECK (percent > 0 AND percent <= 100)',
  );

  // A party's month. balance = carried_in + base_amount + adjustments; payout_amount is the balance when it
  // reaches the minimum, and carried_out what goes on to the next statement (negative balances too).
  await knex.schema.createTable('revenue_statements', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('party_id').notNullable().references('revenue_parties.id');
    t.string('period', 7).notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.decimal('base_amount', 18, 4).notNullable();
    t.decimal('adjustments', 18, 4).notNullable();
    t.decimal('carried_in', 18, 4).notNullable();
    t.decimal('balance', 18, 4).notNullable();
    t.decimal('minimum_payout', 18, 4).notNullable();
    t.decimal('payout_amount', 18, 4).notNullable();
    t.decimal('carried_out', 18, 4).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['party_id', 'period']);
    t.index(['organization_id', 'period']);
  });

  // What a statement's base and adjustments are made of: per rule, the rule's total and the party's part.
  await knex.schema.createTable('revenue_statement_lines', (t) => {
    t.text('statement_id').notNullable().references('revenue_statements.id');
    t.integer('position').notNullable();
    t.text('rule_id').notNullable().references('revenue_share_rules.id');
    t.text('kind').notNullable().checkIn(['base', 'adjustment']);
    t.decimal('rule_amount', 18, 4).notNullable();
    t.decimal('percent', 7, 4).notNullable();
    t.decimal('amount', 18, 4).notNullable();
    t.primary(['statement_id', 'position']);
  });

  // Which sessions were shared, in which period and under which rule: keyed by the session, so nothing is
  // shared twice, and a later credit note finds the rule to take its parts back with. No foreign keys, as
  // for invoice_sessions (db/migrations/012_invoices.ts): one writer inserts ids it read in the same statement.
  await knex.schema.createTable('revenue_shared_sessions', (t) => {
    t.text('session_id').primary();
    t.text('organization_id').notNullable();
    t.string('period', 7).notNullable();
    t.text('rule_id').notNullable();
    // The receipt's total excl. VAT when it was shared.
    t.decimal('amount', 18, 4).notNullable();
    t.index(['organization_id', 'period']);
  });
  // Credit notes (refunds and exemptions) taken off shared revenue, each once: 'base' when its session was
  // shared in the same statement, 'adjustment' when the session was shared in an earlier one.
  await knex.schema.createTable('revenue_shared_credits', (t) => {
    t.text('credit_note_id').primary();
    t.text('organization_id').notNullable();
    t.text('session_id').notNullable();
    t.string('period', 7).notNullable();
    t.text('rule_id').notNullable();
    t.text('kind').notNullable().checkIn(['base', 'adjustment']);
    // The credit note's total excl. VAT, positive.
    t.decimal('amount', 18, 4).notNullable();
    t.index(['organization_id', 'period']);
  });

  await knex.schema.createTable('payouts', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('party_id').notNullable().references('revenue_parties.id');
    t.text('statement_id').notNullable().references('revenue_statements.id');
    t.string('period', 7).notNullable();
    t.decimal('amount', 18, 4).notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('method').notNullable().checkIn(['transfer', 'bank_export']);
    // The connected account or the IBAN the payout goes to, as it was when the payout was made.
    t.text('destination');
    t.text('provider_transfer_id');
    t.text('status').notNullable().checkIn(['pending', 'paid', 'failed']);
    t.text('failure_message');
    // Transfers the provider refused; a new attempt after a refusal gets a new idempotency key.
    t.integer('refusals').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('paid_at', { useTz: true });
    t.unique(['party_id', 'period']);
    t.index(['organization_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'payouts',
    'revenue_shared_credits',
    'revenue_shared_sessions',
    'revenue_statement_lines',
    'revenue_statements',
    'revenue_share_splits',
    'revenue_share_rules',
    'revenue_parties',
  ]) {
    await knex.schema.dropTable(table);
  }
}
