import type { Knex } from 'knex';

// Promotional codes and monthly energy allowances. The counters that must never overshoot (a code's uses, a
// user's kWh in a month) carry CHECK constraints so that even a bug in the locking cannot oversell them.
export async function up(knex: Knex): Promise<void> {
  // Calendar months (allowance periods) are the organization's months, not UTC's.
  if (!(await knex.schema.hasColumn('organizations', 'time_zone'))) {
    await knex.schema.alterTable('organizations', (t) => {
      t.text('time_zone').notNullable().defaultTo('UTC');
    });
  }

  await knex.schema.createTable('promotional_codes', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    // Kept as the operator typed it (shown on receipts); matched case-insensitively.
    t.text('code').notNullable();
    t.text('discount_type').notNullable().checkIn(['percent', 'amount', 'free_sessions']);
    t.decimal('discount_value', 18, 4).notNullable();
    t.specificType('currency', 'char(3)');
    t.integer('max_uses');
    t.integer('times_redeemed').notNullable().defaultTo(0);
    t.timestamp('expires_at', { useTz: true });
    t.boolean('allow_multiple_uses_per_user').notNullable().defaultTo(false);
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`
    CREATE UNIQUE INDEX promotional_codes_org_code_unique ON promotional_codes (organization_id, upper(code));
    ALTER TABLE promotional_codes
      ADD CONSTRAINT promotional_codes_value_check CHECK (
        (discount_type = 'percent' AND discount_value > 0 AND discount_value <= 100 AND currency IS NULL)
        OR (discount_type = 'amount' AND discount_value > 0 AND currency IS NOT NULL)
        OR (discount_type = 'free_sessions' AND discount_value >= 1
            AND discount_value = trunc(discount_value) AND currency IS NULL)),
      ADD CONSTRAINT promotional_codes_max_uses_check CHECK (max_uses IS NULL OR max_uses >= 1),
      ADD CONSTRAINT promotional_codes_redeemed_check
        CHECK (times_redeemed >= 0 AND (max_uses IS NULL OR times_redeemed <= max_uses));
  `);

  // An application is a driver's claim on a code: on the account (session_id null, good for the next
  // session(s)) or bound at session start to one session. Redemptions consume applications.
  await knex.schema.createTable('promotion_applications', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('promotional_code_id').notNullable().references('promotional_codes.id');
    t.text('user_id').notNullable().references('users.id');
    t.text('session_id').unique().references('charging_sessions.id');
    // Copied from the code so that the partial unique index below can enforce single use per user.
    t.boolean('single_use').notNullable();
    t.integer('free_sessions_left');
    t.text('status').notNullable().defaultTo('active').checkIn(['active', 'used_up']);
    t.timestamp('applied_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`
    CREATE UNIQUE INDEX promotion_applications_single_use ON promotion_applications (promotional_code_id, user_id)
      WHERE single_use;
    CREATE INDEX promotion_applications_user_active ON promotion_applications (user_id, applied_at)
      WHERE status = 'active';
    ALTER TABLE promotion_applications
      ADD CONSTRAINT promotion_applications_free_sessions_left_check
        CHECK (free_sessions_left IS NULL OR free_sessions_left >= 0);
  `);

  await knex.schema.createTable('promotion_redemptions', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('promotional_code_id').notNullable().references('promotional_codes.id');
    t.text('application_id').notNullable().references('promotion_applications.id');
    t.text('user_id').notNullable().references('users.id');
    // A session redeems at most one code; a retried redemption finds the first by this key.
    t.text('session_id').notNullable().unique().references('charging_sessions.id');
    // Known only once the session is priced.
    t.decimal('amount_discounted', 18, 4);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['promotional_code_id', 'user_id']);
  });
  await knex.raw(`
    ALTER TABLE promotion_redemptions
      ADD CONSTRAINT promotion_redemptions_amount_check CHECK (amount_discounted IS NULL OR amount_discounted >= 0);
  `);

  await knex.schema.createTable('energy_allowances', (t) => {
    t.text('user_id').primary().references('users.id');
    t.text('organization_id').notNullable().references('organizations.id');
    t.decimal('monthly_kwh', 12, 3).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // One row per session: the grant a session got, so that a retried consumption answers the same grant.
  await knex.schema.createTable('allowance_consumptions', (t) => {
    t.text('session_id').primary().references('charging_sessions.id');
    t.text('user_id').notNullable().references('users.id');
    t.specificType('period', 'char(7)').notNullable();
    t.decimal('kwh', 12, 6).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // The running total per month, locked by consumers; a new month is a new row, so nothing rolls over.
  await knex.schema.createTable('allowance_usage', (t) => {
    t.text('user_id').notNullable().references('users.id');
    t.specificType('period', 'char(7)').notNullable();
    t.decimal('used_kwh', 12, 6).notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['user_id', 'period']);
  });

  await knex.raw(`
    ALTER TABLE energy_allowances
      ADD CONSTRAINT energy_allowances_monthly_kwh_check CHECK (monthly_kwh >= 0);
    ALTER TABLE allowance_consumptions
      ADD CONSTRAINT allowance_consumptions_kwh_check CHECK (kwh >= 0),
      ADD CONSTRAINT allowance_consumptions_period_check CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$');
    ALTER TABLE allowance_usage
      ADD CONSTRAINT allowance_usage_used_check CHECK (used_kwh >= 0),
      ADD CONSTRAINT allowance_usage_period_check CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$');
  `);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'allowance_usage',
    'allowance_consumptions',
    'energy_allowances',
    'promotion_redemptions',
    'promotion_applications',
    'promotional_codes',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
  // time_zone stays: it may have been added by another migration, and dropping it would lose data either way.
}
