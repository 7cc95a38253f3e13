import type { Knex } from 'knex';

// Prepaid wallets (docs/payments.md, "Wallets"). A wallet per user, in one currency. Its money sits in credits
// (lots): a top-up is paid credit that never expires, a grant is granted credit with an expiry. Every change is
// an entry of the append-only ledger, split over the credits it touched:
//   balance  = sum(entries.amount)          = sum(credits.remaining)
//   reserved = sum(entries.reserved_delta)  = sum(credits.held)
//   available = balance - reserved
// The credits' remaining and held are kept in step with the ledger under the wallet's row lock; their CHECKs
// (held <= remaining, both >= 0) are the last line that stops a wallet from spending more than it has.

const WALLET_MOVEMENTS = [
  'wallet_reservation',
  'wallet_settlement',
  'wallet_release',
  'wallet_top_up',
  'wallet_grant',
  'wallet_expiry',
  'wallet_adjustment',
];
const CARD_MOVEMENTS = [
  'authorization',
  'increment',
  'capture',
  'release',
  'refund',
  'off_session_charge',
  'debt',
  'debt_payment',
];
const inList = (values: string[]) => values.map((v) => `'${v}'`).join(', ');

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('wallets', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('user_id').notNullable().unique().references('users.id');
    t.specificType('currency', 'char(3)').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['organization_id']);
  });

  await knex.schema.createTable('wallet_entries', (t) => {
    t.text('id').primary();
    // Commit order within a wallet (all its writes hold the wallet's row lock): the history's order and cursor.
    t.specificType('seq', 'bigint GENERATED ALWAYS AS IDENTITY').notNullable().unique();
    t.text('wallet_id').notNullable().references('wallets.id');
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('kind')
      .notNullable()
      .checkIn(['top_up', 'grant', 'reservation', 'settlement', 'release', 'expiry', 'adjustment']);
    // Signed effect on the balance (top-ups and grants +, settlements and expiries -).
    t.decimal('amount', 18, 4).notNullable();
    // Signed effect on what is reserved (reservations +, settlements and releases -).
    t.decimal('reserved_delta', 18, 4).notNullable().defaultTo(0);
    t.text('session_id');
    t.text('idempotency_key').notNullable().unique();
    // The provider's payment for a top-up.
    t.text('provider_reference');
    t.text('reason');
    t.jsonb('detail');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['wallet_id', 'seq']);
    t.index(['session_id']);
  });

  await knex.schema.createTable('wallet_credits', (t) => {
    t.text('id').primary();
    t.text('wallet_id').notNullable().references('wallets.id');
    t.text('source').notNullable().checkIn(['paid', 'granted']);
    t.decimal('amount', 18, 4).notNullable();
    t.decimal('remaining', 18, 4).notNullable();
    t.decimal('held', 18, 4).notNullable().defaultTo(0);
    t.timestamp('expires_at', { useTz: true });
    t.text('entry_id').notNullable().references('wallet_entries.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`
    ALTER TABLE wallet_credits
      ADD CONSTRAINT wallet_credits_amount_check CHECK (amount > 0),
      ADD CONSTRAINT wallet_credits_balance_check CHECK (held >= 0 AND remaining >= held),
      ADD CONSTRAINT wallet_credits_expiry_check CHECK ((source = 'granted') = (expires_at IS NOT NULL));
    CREATE INDEX wallet_credits_open ON wallet_credits (wallet_id) WHERE remaining > 0;
    CREATE INDEX wallet_credits_expiring ON wallet_credits (expires_at) WHERE remaining > held;
  `);

  // How each entry split over the credits it touched.
  await knex.schema.createTable('wallet_entry_credits', (t) => {
    t.text('entry_id').notNullable().references('wallet_entries.id');
    t.text('credit_id').notNullable().references('wallet_credits.id');
    t.decimal('amount', 18, 4).notNullable();
    t.decimal('reserved_delta', 18, 4).notNullable();
    t.primary(['entry_id', 'credit_id']);
    t.index(['credit_id']);
  });

  // The ledger is append-only for every role, like the audit log.
  await knex.raw(`
    CREATE FUNCTION wallet_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$;
    CREATE TRIGGER wallet_entries_no_change BEFORE UPDATE OR DELETE ON wallet_entries
      FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();
    CREATE TRIGGER wallet_entry_credits_no_change BEFORE UPDATE OR DELETE ON wallet_entry_credits
      FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();
  `);

  // How a user pays; null keeps the behaviour from before payment modes: their card, else the invoice.
  await knex.schema.alterTable('users', (t) => {
    t.text('payment_mode').checkIn(['card', 'wallet', 'invoice', 'roaming'], 'users_payment_mode_check');
  });

  await knex.raw('ALTER TABLE payment_movements DROP CONSTRAINT payment_movements_kind_check');
  await knex.raw(
    `ALTER TABLE payment_movements ADD CONSTRAINT payment_movements_kind_check
       CHECK (kind IN (${inList([...CARD_MOVEMENTS, ...WALLET_MOVEMENTS])}))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex('payment_movements').whereIn('kind', WALLET_MOVEMENTS).delete();
  await knex.raw('ALTER TABLE payment_movements DROP CONSTRAINT payment_movements_kind_check');
  await knex.raw(
    `ALTER TABLE payment_movements ADD CONSTRAINT payment_movements_kind_check
       CHECK (kind IN (${inList(CARD_MOVEMENTS)}))`,
  );
  await knex.schema.alterTable('users', (t) => t.dropColumn('payment_mode'));
  await knex.schema.dropTableIfExists('wallet_entry_credits');
  await knex.schema.dropTableIfExists('wallet_credits');
  await knex.schema.dropTableIfExists('wallet_entries');
  await knex.raw('DROP FUNCTION IF EXISTS wallet_ledger_append_only()');
  await knex.schema.dropTableIfExists('wallets');
}
