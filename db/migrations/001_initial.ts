import type { Knex } from 'knex';

// Money columns are numeric: amounts to 4 decimals (the largest ISO minor unit), unit prices to 6.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('organizations', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('name').notNullable();
    t.text('key_prefix').notNullable();
    t.text('key_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });

  await knex.schema.createTable('user_types', (t) => {
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('name').notNullable();
    t.text('description');
    t.primary(['organization_id', 'name']);
  });

  await knex.schema.createTable('users', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('email').notNullable();
    t.text('name');
    t.text('user_type').notNullable();
    t.text('payment_customer_id');
    t.text('payment_method_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['organization_id', 'email']);
    t.foreign(['organization_id', 'user_type']).references(['organization_id', 'name']).inTable('user_types');
  });

  await knex.schema.createTable('id_tags', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    // OCPP 1.6 idTag is CiString20 and global to the central system.
    t.string('id_tag', 20).notNullable().unique();
    t.text('user_id').notNullable().references('users.id');
    t.text('type').notNullable().checkIn(['rfid', 'app']);
    t.text('status').notNullable().defaultTo('Accepted').checkIn(['Accepted', 'Blocked']);
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('projects', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('sites', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('project_id').notNullable().references('projects.id');
    t.text('name').notNullable();
    t.text('time_zone').notNullable().defaultTo('UTC');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('charge_points', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('site_id').notNullable().references('sites.id');
    t.string('identity', 48).notNullable().unique();
    t.text('password_hash');
    t.decimal('hold_amount', 18, 4).notNullable();
    t.text('vendor');
    t.text('model');
    t.text('serial_number');
    t.text('firmware_version');
    t.timestamp('last_boot_at', { useTz: true });
    t.timestamp('last_seen_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('connectors', (t) => {
    t.text('charge_point_id').notNullable().references('charge_points.id');
    t.integer('connector_id').notNullable();
    t.text('status').notNullable();
    t.text('error_code').notNullable().defaultTo('NoError');
    t.text('info');
    t.timestamp('status_at', { useTz: true }).notNullable();
    t.primary(['charge_point_id', 'connector_id']);
  });

  await knex.schema.createTable('tariffs', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('tariff_versions', (t) => {
    t.text('id').primary();
    t.text('tariff_id').notNullable().references('tariffs.id');
    t.integer('version').notNullable();
    t.text('name').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.timestamp('valid_from', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tariff_id', 'version']);
  });

  await knex.schema.createTable('tariff_components', (t) => {
    t.text('tariff_version_id').notNullable().references('tariff_versions.id');
    t.integer('position').notNullable();
    t.text('type').notNullable().checkIn(['flat_fee', 'per_kwh', 'per_minute']);
    t.decimal('price', 18, 6).notNullable();
    t.primary(['tariff_version_id', 'position']);
  });
  await knex.raw(
    'ALTER TABLE tariff_components ADD CONSTRAINT tariff_components_price_nonneg CHECK (price >= 0)',
  );

  // Sessions are priced with the version in force at their start, so versions must never change.
  await knex.raw(`
    CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is immutable: create a new tariff version instead', TG_TABLE_NAME; END $$;
    CREATE TRIGGER tariff_versions_immutable BEFORE UPDATE OR DELETE ON tariff_versions
      FOR EACH ROW EXECUTE FUNCTION forbid_change();
    CREATE TRIGGER tariff_components_immutable BEFORE UPDATE OR DELETE ON tariff_components
      FOR EACH ROW EXECUTE FUNCTION forbid_change();
  `);

  await knex.schema.createTable('tariff_assignments', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('tariff_id').notNullable().references('tariffs.id');
    t.text('scope_type').notNullable().checkIn(['project', 'site', 'charge_point']);
    t.text('scope_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['scope_type', 'scope_id']);
  });

  // OCPP transactionId is an int32 chosen by the central system; one sequence keeps it unique everywhere.
  await knex.raw('CREATE SEQUENCE ocpp_transaction_id_seq AS integer START 1');
  await knex.schema.createTable('charging_sessions', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('charge_point_id').notNullable().references('charge_points.id');
    t.integer('connector_id').notNullable();
    t.integer('transaction_id')
      .notNullable()
      .unique()
      .defaultTo(knex.raw("nextval('ocpp_transaction_id_seq')"));
    t.string('id_tag', 20).notNullable();
    t.text('user_id').references('users.id');
    t.text('tariff_version_id').references('tariff_versions.id');
    t.specificType('currency', 'char(3)');
    t.text('status').notNullable().checkIn(['starting', 'active', 'completed', 'unbilled']);
    t.text('status_reason');
    t.decimal('meter_start_wh', 20, 3).notNullable();
    t.decimal('meter_stop_wh', 20, 3);
    t.decimal('energy_wh', 20, 3);
    t.integer('duration_seconds');
    t.decimal('total_amount', 18, 4);
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('stopped_at', { useTz: true });
    t.text('stop_reason');
    t.text('workflow_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // A StartTransaction resent after a lost reply carries the same connector and timestamp.
    t.unique(['charge_point_id', 'connector_id', 'started_at']);
  });

  await knex.raw('CREATE SEQUENCE receipt_number_seq START 1');
  await knex.schema.createTable('receipts', (t) => {
    t.text('id').primary();
    t.text('number').notNullable().unique();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('session_id').notNullable().unique().references('charging_sessions.id');
    t.specificType('currency', 'char(3)').notNullable();
    t.decimal('total', 18, 4).notNullable();
    t.decimal('amount_paid', 18, 4).notNullable();
    t.decimal('amount_due', 18, 4).notNullable();
    t.text('payment_status').notNullable();
    t.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('receipt_lines', (t) => {
    t.text('receipt_id').notNullable().references('receipts.id');
    t.integer('position').notNullable();
    t.text('component').notNullable();
    t.text('description').notNullable();
    t.decimal('quantity', 20, 6).notNullable();
    t.text('unit').notNullable();
    t.decimal('unit_price', 18, 6).notNullable();
    t.decimal('amount', 18, 4).notNullable();
    t.primary(['receipt_id', 'position']);
  });

  await knex.schema.createTable('payments', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('session_id').notNullable().unique().references('charging_sessions.id');
    t.text('provider').notNullable();
    t.text('provider_payment_id');
    t.text('status').notNullable().checkIn(['authorized', 'declined', 'captured', 'canceled', 'failed']);
    t.specificType('currency', 'char(3)').notNullable();
    t.decimal('amount_authorized', 18, 4).notNullable().defaultTo(0);
    t.decimal('amount_captured', 18, 4).notNullable().defaultTo(0);
    t.text('failure_code');
    t.text('failure_message');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // Records that leave the system are written with an outbox row in the same transaction.
  await knex.schema.createTable('outbox', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('type').notNullable();
    t.text('object_id').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('published_at', { useTz: true });
    t.unique(['type', 'object_id']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('organization_id').notNullable().references('organizations.id');
    t.string('key', 255).notNullable();
    t.text('method').notNullable();
    t.text('path').notNullable();
    t.text('request_hash').notNullable();
    t.integer('response_status').notNullable();
    t.jsonb('response_body').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['organization_id', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'idempotency_keys',
    'outbox',
    'payments',
    'receipt_lines',
    'receipts',
    'charging_sessions',
    'tariff_assignments',
    'tariff_components',
    'tariff_versions',
    'tariffs',
    'connectors',
    'charge_points',
    'sites',
    'projects',
    'id_tags',
    'users',
    'user_types',
    'api_keys',
    'organizations',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw(
    'DROP SEQUENCE IF EXISTS receipt_number_seq; DROP SEQUENCE IF EXISTS ocpp_transaction_id_seq',
  );
  await knex.raw('DROP FUNCTION IF EXISTS forbid_change()');
}
