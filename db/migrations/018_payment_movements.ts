import type { Knex } from 'knex';
import { ENTITLEMENT_CHANNEL } from './005_entitlement_notify';

// Payments in depth (docs/payments.md). Hold policies say how much to hold and what to do when a session
// outgrows its hold; every money movement of a session is a row (the session's payment timeline); a
// difference that could not be charged becomes the driver's debt, which blocks their next Authorize.
export async function up(knex: Knex): Promise<void> {
  // The most specific policy that matches wins: charge point, then site, then power class, then the
  // organization's default; a policy for a user type beats the same scope without one.
  await knex.schema.createTable('hold_policies', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('charge_point_id').references('charge_points.id');
    t.text('site_id').references('sites.id');
    t.text('power_class').checkIn(['AC', 'DC']);
    t.text('user_type');
    t.decimal('amount', 18, 4).notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    // Share of the held amount the running cost may reach before the hold is incremented.
    t.decimal('increment_at_percent', 5, 2).notNullable().defaultTo(80);
    // When the hold cannot grow: stop the session remotely, or let it run and charge the rest afterwards.
    t.text('on_limit').notNullable().checkIn(['stop', 'charge_after']).defaultTo('charge_after');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `CREATE UNIQUE INDEX hold_policies_scope ON hold_policies (organization_id, COALESCE(charge_point_id, ''),
       COALESCE(site_id, ''), COALESCE(power_class, ''), COALESCE(user_type, ''))`,
  );

  await knex.schema.createTable('payment_movements', (t) => {
    t.text('id').primary();
    // The timeline's order: ids are time-ordered only to the millisecond.
    t.bigIncrements('seq', { primaryKey: false });
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('session_id');
    t.text('payment_id');
    t.text('user_id');
    t.text('kind')
      .notNullable()
      .checkIn([
        'authorization',
        'increment',
        'capture',
        'release',
        'refund',
        'off_session_charge',
        'debt',
        'debt_payment',
      ]);
    t.text('status').notNullable();
    t.decimal('amount', 18, 4).notNullable();
    t.bigInteger('amount_minor').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('provider_reference');
    // Our key for the provider call; also what makes a retried activity record a movement once.
    t.text('idempotency_key').notNullable().unique();
    t.jsonb('detail');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['session_id']);
    t.index(['organization_id', 'created_at']);
  });

  await knex.schema.createTable('debts', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('user_id').notNullable().references('users.id');
    t.text('session_id').notNullable().unique().references('charging_sessions.id');
    t.decimal('amount', 18, 4).notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('status').notNullable().checkIn(['open', 'paid']);
    t.text('reason').notNullable();
    t.text('paid_with');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('paid_at', { useTz: true });
    t.index(['user_id', 'status']);
  });
  // An open debt refuses the driver at Authorize: the bridges' entitlement caches reload the user.
  await knex.raw(`
    CREATE FUNCTION notify_entitlement_debt() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('${ENTITLEMENT_CHANNEL}', 'user:' || NEW.user_id);
      RETURN NULL;
    END $$;
    CREATE TRIGGER debts_entitlement AFTER INSERT OR UPDATE ON debts
      FOR EACH ROW EXECUTE FUNCTION notify_entitlement_debt();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS debts_entitlement ON debts');
  await knex.raw('DROP FUNCTION IF EXISTS notify_entitlement_debt()');
  await knex.schema.dropTableIfExists('debts');
  await knex.schema.dropTableIfExists('payment_movements');
  await knex.schema.dropTableIfExists('hold_policies');
}
