import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import {
  createChargePoint,
  findChargePointByIdentity,
  hashChargePointPassword,
} from '../db/repositories/chargePoints';
import { createMember, findMemberByEmail } from '../db/repositories/members';
import { createApiKey, createOrganization, updateOrganization } from '../db/repositories/organizations';
import { createProject, createSite } from '../db/repositories/sites';
import { assignTariff, createTariff } from '../db/repositories/tariffs';
import { createIdTag, createUser } from '../db/repositories/users';

export interface DemoCredentials {
  organizationId: string;
  apiKey: string;
  chargePointIdentity: string;
  chargePointPassword: string;
  idTag: string;
  /** Keys of an admin (asks for exemptions) and a billing delegate (decides them, closes invoices). */
  adminApiKey?: string;
  billingApiKey?: string;
  /** A fleet driver without a card: charged on the organization's monthly invoice. */
  postpaidIdTag?: string;
}

const POSTPAID_ID_TAG = 'DEMO-FLEET-1';

const IDENTITY = 'CP-DEMO-1';
const ID_TAG = 'DEMO-TAG-1';

/**
 * A demo organization for the local platform so the simulator has something to charge at: a site with one
 * charge point, a tariff (EUR 1.00 per session + 0.35/kWh + 0.05/min), a driver with a test card and an
 * RFID tag. Idempotent: the credentials are kept in DATA_DIR/demo.json and reused.
 */
export async function seedDemo(db: Knex, dataDir: string): Promise<DemoCredentials & { apiKeyFile: string }> {
  const file = path.join(dataDir, 'demo.json');
  if (existsSync(file) && (await findChargePointByIdentity(db, IDENTITY))) {
    const creds = JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
    if (creds.billingApiKey) return { ...creds, apiKeyFile: file };
    // A demo from before the billing processes: add them.
    const upgraded = { ...creds, ...(await seedBillingDemo(db, creds.organizationId)) };
    writeFileSync(file, JSON.stringify(upgraded, null, 2) + '\n', { mode: 0o600 });
    return { ...upgraded, apiKeyFile: file };
  }
  const existing = await findChargePointByIdentity(db, IDENTITY);
  const base = existing
    ? await reissueCredentials(db, existing.id, existing.organization_id)
    : await createDemo(db);
  const creds = { ...base, ...(await seedBillingDemo(db, base.organizationId)) };
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  return { ...creds, apiKeyFile: file };
}

/** The demo exists in the database but this checkout has no credentials file: issue a new key and password. */
async function reissueCredentials(
  db: Knex,
  chargePointId: string,
  organizationId: string,
): Promise<DemoCredentials> {
  const { secret } = await createApiKey(db, organizationId, 'demo');
  const password = randomBytes(12).toString('hex');
  await db('charge_points')
    .where({ id: chargePointId })
    .update({ password_hash: await hashChargePointPassword(password) });
  return {
    organizationId,
    apiKey: secret,
    chargePointIdentity: IDENTITY,
    chargePointPassword: password,
    idTag: ID_TAG,
  };
}

async function createDemo(db: Knex): Promise<DemoCredentials> {
  return db.transaction(async (trx): Promise<DemoCredentials> => {
    const org = await createOrganization(trx, { name: 'Demo Charging Co.' });
    const { secret } = await createApiKey(trx, org.id, 'demo');
    const project = await createProject(trx, org.id, { name: 'Demo project' });
    const site = await createSite(trx, org.id, {
      projectId: project.id,
      name: 'Demo car park',
      timeZone: 'Europe/Berlin',
    });
    const password = randomBytes(12).toString('hex');
    await createChargePoint(trx, org.id, {
      identity: IDENTITY,
      siteId: site.id,
      password,
      holdAmount: '50.00',
    });
    const tariff = await createTariff(trx, org.id, {
      name: 'Demo public rate',
      currency: 'EUR',
      components: [
        { type: 'flat_fee', price: '1.00' },
        { type: 'per_kwh', price: '0.35' },
        { type: 'per_minute', price: '0.05' },
      ],
    });
    await assignTariff(trx, org.id, tariff.id, { scopeType: 'project', scopeId: project.id });
    const user = await createUser(trx, org.id, {
      email: 'driver@demo.example',
      name: 'Demo Driver',
      userType: 'public',
      paymentMethodId: 'pm_card_visa',
    });
    await createIdTag(trx, org.id, {
      idTag: ID_TAG,
      userId: user.id,
      type: 'rfid',
      status: 'Accepted',
      expiresAt: null,
    });
    return {
      organizationId: org.id,
      apiKey: secret,
      chargePointIdentity: IDENTITY,
      chargePointPassword: password,
      idTag: ID_TAG,
    };
  });
}

/**
 * What the billing processes need: a billing contact, an admin and a billing delegate with their own keys,
 * and a fleet driver without a card whose sessions go on the monthly invoice. Re-running issues new keys.
 */
async function seedBillingDemo(
  db: Knex,
  organizationId: string,
): Promise<Required<Pick<DemoCredentials, 'adminApiKey' | 'billingApiKey' | 'postpaidIdTag'>>> {
  return db.transaction(async (trx) => {
    await updateOrganization(trx, organizationId, {
      timeZone: 'Europe/Berlin',
      billingContact: {
        email: 'accounts@demo.example',
        name: 'Demo Charging Co. Accounts',
        address: { line1: 'Hauptstr. 1', postalCode: '10115', city: 'Berlin', country: 'DE' },
        vatNumber: 'DE123456789',
      },
    });
    const key = async (email: string, role: 'admin' | 'billing') => {
      const member =
        (await findMemberByEmail(trx, organizationId, email)) ??
        (await createMember(trx, organizationId, { email, name: `Demo ${role}`, role }));
      return (await createApiKey(trx, organizationId, 'demo', member.id)).secret;
    };
    const adminApiKey = await key('admin@demo.example', 'admin');
    const billingApiKey = await key('billing@demo.example', 'billing');
    if (!(await trx('id_tags').where({ id_tag: POSTPAID_ID_TAG }).first())) {
      const fleetDriver = await createUser(trx, organizationId, {
        email: 'fleet-driver@demo.example',
        name: 'Demo Fleet Driver',
        userType: 'fleet',
      });
      await createIdTag(trx, organizationId, {
        idTag: POSTPAID_ID_TAG,
        userId: fleetDriver.id,
        type: 'rfid',
        status: 'Accepted',
        expiresAt: null,
      });
    }
    return { adminApiKey, billingApiKey, postpaidIdTag: POSTPAID_ID_TAG };
  });
}
