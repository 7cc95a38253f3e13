import type { Knex } from 'knex';

// A receipt explains every cent: each line says what produced it (tariff element or billing rule, with its
// version, or a promotional code) and carries its VAT; the receipt keeps the totals excluding and including
// VAT and the rules, promotion and rejected meter readings its price was built from.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('receipt_lines', (t) => {
    t.text('kind').notNullable().defaultTo('usage');
    t.decimal('vat_rate', 7, 4);
    t.decimal('vat_amount', 18, 4).notNullable().defaultTo(0);
    t.decimal('amount_incl_vat', 18, 4);
    t.jsonb('source');
  });
  await knex.raw('UPDATE receipt_lines SET amount_incl_vat = amount WHERE amount_incl_vat IS NULL');
  await knex.raw('ALTER TABLE receipt_lines ALTER COLUMN amount_incl_vat SET NOT NULL');
  await knex.schema.alterTable('receipts', (t) => {
    t.decimal('total_excl_vat', 18, 4);
    t.decimal('total_vat', 18, 4).notNullable().defaultTo(0);
    t.jsonb('pricing');
  });
  await knex.raw('UPDATE receipts SET total_excl_vat = total WHERE total_excl_vat IS NULL');
  await knex.raw('ALTER TABLE receipts ALTER COLUMN total_excl_vat SET NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('receipts', (t) => {
    t.dropColumns('total_excl_vat', 'total_vat', 'pricing');
  });
  await knex.schema.alterTable('receipt_lines', (t) => {
    t.dropColumns('kind', 'vat_rate', 'vat_amount', 'amount_incl_vat', 'source');
  });
}
