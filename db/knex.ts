import knexFactory, { Knex } from 'knex';
import pg from 'pg';
import * as initial from './migrations/001_initial';
import * as tariffDefinitionsRules from './migrations/002_tariff_definitions_rules';
import * as promotionsAllowances from './migrations/003_promotions_allowances';
import * as receiptPricing from './migrations/004_receipt_pricing';
import * as entitlementNotify from './migrations/005_entitlement_notify';
import * as orphanSessions from './migrations/006_orphan_sessions';
import * as chargePointCommands from './migrations/007_charge_point_commands';
import * as meterInbox from './migrations/008_meter_inbox';
import * as declinedHoldPolicy from './migrations/009_declined_hold_policy';
import * as membersBillingContact from './migrations/010_members_billing_contact';
import * as exemptionsCreditNotes from './migrations/011_exemptions_credit_notes';
import * as invoices from './migrations/012_invoices';
import * as allowancePeriods from './migrations/013_allowance_periods';
import * as revenueSharing from './migrations/014_revenue_sharing';
import * as eventsWebhooks from './migrations/015_events_webhooks';
import * as reconciliation from './migrations/016_reconciliation';
import * as auditLog from './migrations/017_audit_log';
import * as paymentMovements from './migrations/018_payment_movements';
import * as wallets from './migrations/019_wallets';
import * as paymentPaths from './migrations/020_payment_paths';

// numeric comes back as a string (exact); bigint counts as numbers are safe for our row counts.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number.parseInt(v, 10));

// Migrations are listed in code rather than read from a folder so the same list works from ts-jest and dist/.
const migrations: Record<string, Knex.Migration> = {
  '001_initial': initial,
  '002_tariff_definitions_rules': tariffDefinitionsRules,
  '003_promotions_allowances': promotionsAllowances,
  '004_receipt_pricing': receiptPricing,
  '005_entitlement_notify': entitlementNotify,
  '006_orphan_sessions': orphanSessions,
  '007_charge_point_commands': chargePointCommands,
  '008_meter_inbox': meterInbox,
  '009_declined_hold_policy': declinedHoldPolicy,
  '010_members_billing_contact': membersBillingContact,
  '011_exemptions_credit_notes': exemptionsCreditNotes,
  '012_invoices': invoices,
  '013_allowance_periods': allowancePeriods,
  '014_revenue_sharing': revenueSharing,
  '015_events_webhooks': eventsWebhooks,
  '016_reconciliation': reconciliation,
  '017_audit_log': auditLog,
  '018_payment_movements': paymentMovements,
  '019_wallets': wallets,
  '020_payment_paths': paymentPaths,
};
const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};

export function createDb(databaseUrl: string, pool: Knex.PoolConfig = { min: 0, max: 10 }): Knex {
  return knexFactory({ client: 'pg', connection: databaseUrl, pool });
}

/** Up to and including the named migration: tests of a migration start from the schema before it. */
export async function migrateUpTo(db: Knex, last: string): Promise<void> {
  if (!(last in migrations)) throw new Error(`no migration ${last}`);
  await db.migrate.latest({
    migrationSource: {
      ...migrationSource,
      getMigrations: async () =>
        Object.keys(migrations)
          .filter((n) => n <= last)
          .sort(),
    },
  });
}

export async function migrateLatest(db: Knex): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** Creates the database named in the URL when it does not exist yet (local and CI convenience). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`refusing to create database with name "${name}"`);
  url.pathname = '/postgres';
  const admin = createDb(url.toString(), { min: 0, max: 1 });
  try {
    const found = await admin.raw('SELECT 1 FROM pg_database WHERE datname = ?', [name]);
    if (found.rows.length === 0) await admin.raw(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.destroy();
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const admin = createDb(url.toString(), { min: 0, max: 1 });
  try {
    await admin.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.destroy();
  }
}
