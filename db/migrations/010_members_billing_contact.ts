import type { Knex } from 'knex';

// Members and their roles: an API key acts for one member, with that member's role. Every organization
// that exists before this migration gets an owner member holding its existing keys, so no key loses access.
// The billing contact and currency are what invoices are addressed to and issued in.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('members', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('email').notNullable();
    t.text('name');
    t.text('role').notNullable().checkIn(['owner', 'admin', 'billing', 'viewer']);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('removed_at', { useTz: true });
    t.index(['organization_id']);
  });
  // One live member per e-mail per organization; a removed member's address can be invited again.
  await knex.raw(
    'CREATE UNIQUE INDEX members_organization_email_live ON members (organization_id, lower(email)) WHERE removed_at IS NULL',
  );
  await knex.raw(`
    INSERT INTO members (id, organization_id, email, name, role)
    SELECT 'mem_' || substr(md5(o.id), 1, 26), o.id, 'owner@' || lower(o.id) || '.invalid', 'Owner', 'owner'
    FROM organizations o`);
  await knex.schema.alterTable('api_keys', (t) => {
    t.text('member_id').references('members.id');
  });
  await knex.raw(`
    UPDATE api_keys k SET member_id = m.id FROM members m
    WHERE m.organization_id = k.organization_id AND m.role = 'owner'`);
  await knex.raw('ALTER TABLE api_keys ALTER COLUMN member_id SET NOT NULL');

  await knex.schema.alterTable('organizations', (t) => {
    t.specificType('currency', 'char(3)').notNullable().defaultTo('EUR');
    t.text('billing_email');
    t.text('billing_name');
    t.jsonb('billing_address');
    t.text('vat_number');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('organizations', (t) => {
    t.dropColumns('currency', 'billing_email', 'billing_name', 'billing_address', 'vat_number');
  });
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropColumn('member_id');
  });
  await knex.schema.dropTable('members');
}
