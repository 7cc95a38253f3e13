import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import {
  createChargePoint,
  findChargePointByIdentity,
  hashChargePointPassword,
} from '../db/repositories/chargePoints';
import { createApiKey, createOrganization } from '../db/repositories/organizations';
import { createProject, createSite } from '../db/repositories/sites';
import { assignTariff, createTariff } from '../db/repositories/tariffs';
import { createIdTag, createUser } from '../db/repositories/users';

export interface DemoCredentials {
  organizationId: string;
  apiKey: string;
  chargePointIdentity: string;
  chargePointPassword: string;
  idTag: string;
}

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
    return { ...(JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials), apiKeyFile: file };
  }
  const existing = await findChargePointByIdentity(db, IDENTITY);
  const creds = existing
    ? await reissueCredentials(db, existing.id, existing.organization_id)
    : await createDemo(db);
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
