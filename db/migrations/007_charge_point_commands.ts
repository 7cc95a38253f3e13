import type { Knex } from 'knex';

// Central-system calls requested by processes that hold no WebSocket (a session workflow's activity runs in
// the worker): written here, announced by NOTIFY with the charge point's identity, and sent by whichever
// bridge process holds that charge point's connection. The idempotency key makes a retried request one row.
export const COMMAND_CHANNEL = 'charge_point_commands';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('charge_point_commands', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id');
    t.text('charge_point_id').notNullable().references('charge_points.id');
    t.text('action').notNullable();
    t.jsonb('payload').notNullable();
    t.text('idempotency_key').notNullable().unique();
    t.text('status').notNullable().defaultTo('pending').checkIn(['pending', 'answered', 'failed', 'expired']);
    t.integer('attempts').notNullable().defaultTo(0);
    // A bridge sending it holds it until then; another may take it over after.
    t.timestamp('claimed_until', { useTz: true });
    t.jsonb('response');
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('answered_at', { useTz: true });
  });
  await knex.raw(`
    CREATE INDEX charge_point_commands_pending ON charge_point_commands (charge_point_id, created_at)
      WHERE status = 'pending';
    CREATE FUNCTION notify_charge_point_command() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('${COMMAND_CHANNEL}', (SELECT identity FROM charge_points WHERE id = NEW.charge_point_id));
      RETURN NULL;
    END $$;
    CREATE TRIGGER charge_point_commands_notify AFTER INSERT ON charge_point_commands
      FOR EACH ROW EXECUTE FUNCTION notify_charge_point_command();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS charge_point_commands_notify ON charge_point_commands;
    DROP FUNCTION IF EXISTS notify_charge_point_command();
  `);
  await knex.schema.dropTableIfExists('charge_point_commands');
}
