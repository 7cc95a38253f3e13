import type { Knex } from 'knex';

// Who moved money or changed a price, when, and what the object looked like before and after. Rows are
// appended in the transaction of the change; the triggers make the table append-only for every role, the
// owner of the table included.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_log', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    // 'member' (an API key's member), 'system' (a workflow or schedule), 'provider' (a payment-provider webhook).
    t.text('actor_type').notNullable().checkIn(['member', 'system', 'provider']);
    t.text('actor_id').notNullable();
    t.text('action').notNullable();
    t.text('object_type').notNullable();
    t.text('object_id').notNullable();
    t.jsonb('before');
    t.jsonb('after');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['organization_id', 'id']);
    t.index(['organization_id', 'object_id']);
  });
  await knex.raw(`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$`);
  await knex.raw(
    'CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()',
  );
  await knex.raw(
    'CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_log');
  await knex.raw('DROP FUNCTION IF EXISTS audit_log_append_only()');
}
