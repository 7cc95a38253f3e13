import type { Knex } from 'knex';

// Every way a driver pays, resolved when the session opens (docs/payments.md): card, wallet, the
// organization's invoice, a contactless terminal's authorization, a roaming partner's token, or free.
// The session keeps how it is paid; the receipt says how it was paid.
export async function up(knex: Knex): Promise<void> {
  // Roaming tokens are issued by an eMSP partner (OCPI country code and party id, e.g. "DE*ABC").
  await knex.raw('ALTER TABLE id_tags DROP CONSTRAINT IF EXISTS id_tags_type_check');
  await knex.raw(
    "ALTER TABLE id_tags ADD CONSTRAINT id_tags_type_check CHECK (type IN ('rfid', 'app', 'roaming', 'terminal'))",
  );
  await knex.schema.alterTable('id_tags', (t) => {
    t.text('roaming_party');
  });
  await knex.schema.alterTable('charging_sessions', (t) => {
    t.text('payment_mode');
    t.text('roaming_party');
  });
  await knex.schema.alterTable('receipts', (t) => {
    t.jsonb('paid_with');
  });
  // A hold placed before a remote start, for the session the charge point is asked to start. The session
  // adopts it at StartTransaction; a start that is refused, or does not come in time, releases it.
  await knex.schema.createTable('pre_authorizations', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('charge_point_id').notNullable().references('charge_points.id');
    t.text('id_tag').notNullable();
    t.text('user_id').notNullable().references('users.id');
    t.text('provider_payment_id').notNullable();
    t.decimal('amount', 18, 4).notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('status').notNullable().checkIn(['pending', 'adopted', 'released']);
    t.text('session_id');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['charge_point_id', 'status']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('pre_authorizations');
  await knex.schema.alterTable('receipts', (t) => t.dropColumn('paid_with'));
  await knex.schema.alterTable('charging_sessions', (t) => {
    t.dropColumn('payment_mode');
    t.dropColumn('roaming_party');
  });
  await knex.schema.alterTable('id_tags', (t) => t.dropColumn('roaming_party'));
  await knex.raw('ALTER TABLE id_tags DROP CONSTRAINT IF EXISTS id_tags_type_check');
  await knex.raw("ALTER TABLE id_tags ADD CONSTRAINT id_tags_type_check CHECK (type IN ('rfid', 'app'))");
}
