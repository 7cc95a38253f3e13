import type { Knex } from 'knex';

// The OCPP bridge answers Authorize from memory. These triggers tell every bridge what changed, within
// milliseconds of the commit: NOTIFY is delivered at commit and only for committed transactions. The payload
// names what to reload: 'tag:<lower id_tag>' or 'user:<user id>'. A bridge that missed some (reconnect)
// reloads everything.
export const ENTITLEMENT_CHANNEL = 'entitlements';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION notify_entitlement_tag() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('${ENTITLEMENT_CHANNEL}', 'tag:' || lower(OLD.id_tag)); END IF;
      IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('${ENTITLEMENT_CHANNEL}', 'tag:' || lower(NEW.id_tag)); END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER id_tags_entitlement AFTER INSERT OR UPDATE OR DELETE ON id_tags
      FOR EACH ROW EXECUTE FUNCTION notify_entitlement_tag();

    CREATE FUNCTION notify_entitlement_user() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('${ENTITLEMENT_CHANNEL}', 'user:' || NEW.id);
      RETURN NULL;
    END $$;
    CREATE TRIGGER users_entitlement AFTER UPDATE ON users
      FOR EACH ROW EXECUTE FUNCTION notify_entitlement_user();

    -- A session starting or ending changes whether its tag is in use (ConcurrentTx).
    CREATE FUNCTION notify_entitlement_session() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status THEN
        PERFORM pg_notify('${ENTITLEMENT_CHANNEL}', 'tag:' || lower(NEW.id_tag));
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER charging_sessions_entitlement AFTER INSERT OR UPDATE ON charging_sessions
      FOR EACH ROW EXECUTE FUNCTION notify_entitlement_session();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS charging_sessions_entitlement ON charging_sessions;
    DROP FUNCTION IF EXISTS notify_entitlement_session();
    DROP TRIGGER IF EXISTS users_entitlement ON users;
    DROP FUNCTION IF EXISTS notify_entitlement_user();
    DROP TRIGGER IF EXISTS id_tags_entitlement ON id_tags;
    DROP FUNCTION IF EXISTS notify_entitlement_tag();
  `);
}
