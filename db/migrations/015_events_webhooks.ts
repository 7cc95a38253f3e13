import type { Knex } from 'knex';

// Accounting events and their delivery. The outbox is the event log: a change and the event describing it
// commit together. `seq` orders events (ids are time-ordered only to the millisecond); deliveries of one
// object's events to one endpoint follow it. Refunds and disputes become records of their own, because
// they now arrive from the payment provider as well as from our own exemptions.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.bigIncrements('seq', { primaryKey: false });
    t.integer('version').notNullable().defaultTo(1);
    t.text('object_type');
  });
  await knex.raw('CREATE UNIQUE INDEX outbox_seq ON outbox (seq)');
  await knex.raw('CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL');
  await knex.raw('CREATE INDEX outbox_org_created ON outbox (organization_id, created_at)');
  // Wakes the relay at once instead of at its next sweep.
  await knex.raw(`
    CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('outbox', ''); RETURN NULL; END $$`);
  await knex.raw(
    'CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()',
  );

  await knex.schema.alterTable('payments', (t) => {
    t.timestamp('captured_at', { useTz: true });
  });
  await knex.raw("UPDATE payments SET captured_at = updated_at WHERE status = 'captured'");
  // Provider webhooks and reconciliation find our payment by the provider's id.
  await knex.raw('CREATE INDEX payments_provider_payment_id ON payments (provider_payment_id)');

  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('url').notNullable();
    t.text('description');
    // '*' subscribes to every type.
    t.specificType('enabled_events', 'text[]').notNullable();
    t.text('status').notNullable().checkIn(['enabled', 'disabled']);
    t.text('disabled_reason');
    t.timestamp('disabled_at', { useTz: true });
    // Set by the first failed attempt after a success; an endpoint failing for long enough is disabled.
    t.timestamp('failing_since', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['organization_id']);
  });

  // More than one secret is live while a rotation overlaps: deliveries are signed with each.
  await knex.schema.createTable('webhook_secrets', (t) => {
    t.text('id').primary();
    t.text('endpoint_id').notNullable().references('webhook_endpoints.id');
    t.text('secret').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true });
    t.index(['endpoint_id']);
  });

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.text('id').primary();
    t.text('endpoint_id').notNullable().references('webhook_endpoints.id');
    t.text('event_id').notNullable().references('outbox.id');
    t.bigInteger('event_seq').notNullable();
    t.text('object_id').notNullable();
    t.text('status').notNullable().checkIn(['pending', 'delivered', 'failed']);
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    // Past it, a failing delivery stops retrying (3 days by default).
    t.timestamp('deadline_at', { useTz: true }).notNullable();
    t.timestamp('delivered_at', { useTz: true });
    t.boolean('replay').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, event_seq) WHERE status = 'pending'",
  );
  await knex.raw('CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)');
  await knex.raw('CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id)');

  await knex.schema.createTable('webhook_attempts', (t) => {
    t.bigIncrements('id');
    t.text('delivery_id').notNullable().references('webhook_deliveries.id');
    t.timestamp('attempted_at', { useTz: true }).notNullable();
    t.text('outcome').notNullable().checkIn(['succeeded', 'failed']);
    t.integer('response_code');
    t.integer('latency_ms').notNullable();
    t.text('error');
    t.index(['delivery_id']);
  });

  await knex.schema.createTable('refunds', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('payment_id').notNullable().references('payments.id');
    t.text('provider_refund_id').notNullable().unique();
    t.decimal('amount', 18, 4).notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('status').notNullable();
    t.text('reason');
    // 'exemption' (we refunded) or 'provider' (learnt from the provider: a dashboard refund, say).
    t.text('source').notNullable().checkIn(['exemption', 'provider']);
    t.text('exemption_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['organization_id', 'created_at']);
  });

  await knex.schema.createTable('disputes', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('payment_id').notNullable().references('payments.id');
    t.text('provider_dispute_id').notNullable().unique();
    t.decimal('amount', 18, 4).notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('status').notNullable();
    t.text('reason');
    t.timestamp('opened_at', { useTz: true }).notNullable();
    t.timestamp('closed_at', { useTz: true });
    t.index(['organization_id', 'opened_at']);
  });

  // Provider webhooks already acted on, by the provider's event id.
  await knex.schema.createTable('provider_events', (t) => {
    t.text('id').primary();
    t.text('provider').notNullable();
    t.text('type').notNullable();
    t.text('outcome').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'provider_events',
    'disputes',
    'refunds',
    'webhook_attempts',
    'webhook_deliveries',
    'webhook_secrets',
    'webhook_endpoints',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw('DROP INDEX IF EXISTS payments_provider_payment_id');
  await knex.schema.alterTable('payments', (t) => t.dropColumn('captured_at'));
  await knex.raw('DROP TRIGGER IF EXISTS outbox_notify ON outbox');
  await knex.raw('DROP FUNCTION IF EXISTS outbox_notify()');
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('seq');
    t.dropColumn('version');
    t.dropColumn('object_type');
  });
}
