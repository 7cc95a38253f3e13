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
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('receipts', (t) => t.dropColumn('paid_with'));
  await knex.schema.alterTable('charging_sessions', (t) => {
    t.dropColumn('payment_mode');
    t.dropColumn('roaming_party');
  });
  await knex.schema.alterTable('id_tags', (t) => t.dropColumn('roaming_party'));
  await knex.raw('ALTER TABLE id_tags DROP CONSTRAINT IF EXISTS id_tags_type_check');
  await knex.raw("ALTER TABLE id_tags ADD CONSTRAINT id_tags_type_check CHECK (type IN ('rfid', 'app'))");
}
