import type { Knex } from 'knex';
import { definitionFromSimpleComponents, SimpleComponentType } from '../../pricing/tariff-definition';
import { canonicalDecimal } from '../repositories/decimals';

// Full (OCPI-shaped) tariff definitions, billing rules, and what rule conditions read from the session: the
// user type's own tariff, the charge point's power type, power and connector types, the driver's membership.
export async function up(knex: Knex): Promise<void> {
  // ---- tariff definitions: every version gets one, simple-form versions keep their components too
  await knex.schema.alterTable('tariff_versions', (t) => {
    t.jsonb('definition');
  });
  await backfillDefinitions(knex);
  await knex.raw(`
    ALTER TABLE tariff_versions ALTER COLUMN definition SET NOT NULL;
    ALTER TABLE tariff_versions ADD CONSTRAINT tariff_versions_definition_check
      CHECK (jsonb_typeof(definition) = 'object' AND definition->>'currency' = currency::text);
  `);

  // One message for every immutable table, not only tariffs (the trigger function is shared).
  await knex.raw(`
    CREATE OR REPLACE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is immutable: create a new version instead', TG_TABLE_NAME; END $$;
  `);

  // ---- a tariff per user type; the composite key keeps it inside the user type's organization
  await knex.raw(
    'ALTER TABLE tariffs ADD CONSTRAINT tariffs_organization_id_id_unique UNIQUE (organization_id, id)',
  );
  await knex.schema.alterTable('user_types', (t) => {
    t.text('tariff_id');
    t.foreign(['organization_id', 'tariff_id'])
      .references(['organization_id', 'id'])
      .inTable('tariffs')
      .withKeyName('user_types_tariff_fkey');
  });

  await knex.schema.alterTable('users', (t) => {
    t.timestamp('membership_valid_until', { useTz: true });
  });

  // ---- what a charge point offers, for power-class and connector-type rule conditions
  await knex.schema.alterTable('charge_points', (t) => {
    t.text('power_type').checkIn(['AC', 'DC'], 'charge_points_power_type_check');
    t.decimal('max_power_kw', 8, 2);
  });
  await knex.raw(
    'ALTER TABLE charge_points ADD CONSTRAINT charge_points_max_power_kw_check CHECK (max_power_kw > 0)',
  );
  // A table of its own rather than columns on connectors: those rows appear only when a charge point sends
  // a StatusNotification, while the operator describes the hardware before it ever connects.
  await knex.schema.createTable('connector_types', (t) => {
    t.text('charge_point_id').notNullable().references('charge_points.id');
    t.integer('connector_id').notNullable();
    t.text('connector_type').notNullable();
    t.primary(['charge_point_id', 'connector_id']);
  });
  // OCPP connector 0 is the charge point as a whole, never a plug.
  await knex.raw(
    'ALTER TABLE connector_types ADD CONSTRAINT connector_types_connector_id_check CHECK (connector_id >= 1)',
  );

  // ---- billing rules: the rule is the identity, its versions are immutable snapshots a session starts with
  await knex.schema.createTable('billing_rules', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('disabled_at', { useTz: true });
    t.index(['organization_id', 'id']);
  });
  await knex.schema.createTable('billing_rule_versions', (t) => {
    t.text('id').primary();
    t.text('rule_id').notNullable().references('billing_rules.id');
    t.integer('version').notNullable();
    t.text('name').notNullable();
    t.integer('priority').notNullable();
    t.boolean('stackable').notNullable();
    t.jsonb('conditions').notNullable();
    t.jsonb('action').notNullable();
    t.timestamp('valid_from', { useTz: true });
    t.timestamp('valid_until', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['rule_id', 'version']);
  });
  await knex.raw(`
    ALTER TABLE billing_rule_versions
      ADD CONSTRAINT billing_rule_versions_version_check CHECK (version >= 1),
      ADD CONSTRAINT billing_rule_versions_priority_check CHECK (priority >= 0),
      ADD CONSTRAINT billing_rule_versions_json_check
        CHECK (jsonb_typeof(conditions) = 'object' AND jsonb_typeof(action) = 'object'),
      ADD CONSTRAINT billing_rule_versions_validity_check
        CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until);
    CREATE TRIGGER billing_rule_versions_immutable BEFORE UPDATE OR DELETE ON billing_rule_versions
      FOR EACH ROW EXECUTE FUNCTION forbid_change();
  `);
}

interface BackfillRow {
  id: string;
  currency: string;
  components: { type: SimpleComponentType; price: string }[] | null;
}

/**
 * Existing versions were all entered in the simple form, so their definition is the same conversion new
 * simple-form versions get. The immutability trigger is lifted around the one UPDATE; the migration runs in
 * a transaction, so a failed backfill leaves the trigger enabled.
 */
async function backfillDefinitions(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: BackfillRow[] }>(`
    SELECT v.id, v.currency,
           (SELECT json_agg(json_build_object('type', c.type, 'price', c.price::text) ORDER BY c.position)
              FROM tariff_components c WHERE c.tariff_version_id = v.id) AS components
      FROM tariff_versions v
  `);
  if (rows.length === 0) return;
  const definitions = rows.map((row) => {
    const components = (row.components ?? []).map((c) => ({
      type: c.type,
      price: canonicalDecimal(c.price),
    }));
    return { id: row.id, definition: definitionFromSimpleComponents(row.currency.trim(), components) };
  });
  await knex.raw('ALTER TABLE tariff_versions DISABLE TRIGGER tariff_versions_immutable');
  await knex.raw(
    `UPDATE tariff_versions v SET definition = d.definition
       FROM jsonb_to_recordset(?::jsonb) AS d(id text, definition jsonb)
      WHERE v.id = d.id`,
    [JSON.stringify(definitions)],
  );
  await knex.raw('ALTER TABLE tariff_versions ENABLE TRIGGER tariff_versions_immutable');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('billing_rule_versions');
  await knex.schema.dropTableIfExists('billing_rules');
  await knex.schema.dropTableIfExists('connector_types');
  await knex.schema.alterTable('charge_points', (t) => {
    t.dropChecks(['charge_points_power_type_check', 'charge_points_max_power_kw_check']);
    t.dropColumns('power_type', 'max_power_kw');
  });
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('membership_valid_until');
  });
  await knex.schema.alterTable('user_types', (t) => {
    t.dropForeign(['organization_id', 'tariff_id'], 'user_types_tariff_fkey');
    t.dropColumn('tariff_id');
  });
  await knex.raw('ALTER TABLE tariffs DROP CONSTRAINT tariffs_organization_id_id_unique');
  await knex.raw(`
    CREATE OR REPLACE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is immutable: create a new tariff version instead', TG_TABLE_NAME; END $$;
  `);
  // Dropping a column is not an UPDATE, so the immutability trigger does not stand in the way.
  await knex.schema.alterTable('tariff_versions', (t) => {
    t.dropChecks(['tariff_versions_definition_check']);
    t.dropColumn('definition');
  });
}
