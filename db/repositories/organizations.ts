import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../ids';

export interface Organization {
  id: string;
  name: string;
  /** IANA zone of the organization's calendar: monthly allowances reset at its midnight. */
  timeZone: string;
  /** Ask the charge point to stop when a session's card hold is declined. */
  stopChargingOnDeclinedHold: boolean;
  createdAt: Date;
}

interface OrganizationRow {
  id: string;
  name: string;
  time_zone: string;
  stop_charging_on_declined_hold: boolean;
  created_at: Date;
}

/** The conventional user types of the operator docs; organizations may add their own. */
export const DEFAULT_USER_TYPES: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'public', description: 'Default type for unregistered or anonymous drivers' },
  { name: 'employee', description: 'Company staff entitled to free or discounted charging' },
  { name: 'visitor', description: 'Guests at a facility with access to a guest rate' },
  { name: 'member', description: 'Subscribers to a charging membership program' },
  { name: 'fleet', description: 'Commercial vehicle operators on contracted fleet rates' },
];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_LENGTH = 32;
const SECRET_PATTERN = /^sk_[0-9A-Za-z]{32}$/;
const PREFIX_LENGTH = 7;

function toOrganization(row: OrganizationRow): Organization {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.time_zone,
    stopChargingOnDeclinedHold: row.stop_charging_on_declined_hold,
    createdAt: row.created_at,
  };
}

export async function createOrganization(db: Knex, input: { name: string }): Promise<Organization> {
  return db.transaction(async (trx) => {
    const [row] = await trx<OrganizationRow>('organizations')
      .insert({ id: newId('org'), name: input.name })
      .returning('*');
    await trx('user_types').insert(DEFAULT_USER_TYPES.map((t) => ({ organization_id: row.id, ...t })));
    return toOrganization(row);
  });
}

export async function getOrganization(db: Knex, id: string): Promise<Organization | undefined> {
  const row = await db<OrganizationRow>('organizations').where({ id }).first();
  return row && toOrganization(row);
}

export async function updateOrganization(
  db: Knex,
  id: string,
  changes: { name?: string; timeZone?: string; stopChargingOnDeclinedHold?: boolean },
): Promise<Organization | undefined> {
  if (Object.values(changes).every((v) => v === undefined)) return getOrganization(db, id);
  const [row] = await db<OrganizationRow>('organizations')
    .where({ id })
    .update({
      name: changes.name,
      time_zone: changes.timeZone,
      stop_charging_on_declined_hold: changes.stopChargingOnDeclinedHold,
    })
    .returning('*');
  return row && toOrganization(row);
}

// Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * The secret is returned once and never stored: only its sha256 (the secret has 190 bits of entropy, so
 * a fast hash is enough) and a short prefix that lets an operator recognise the key in a list.
 */
export async function createApiKey(
  db: Knex,
  organizationId: string,
  name: string,
): Promise<{ id: string; secret: string }> {
  const secret = `sk_${randomBase62(SECRET_LENGTH)}`;
  const id = newId('key');
  await db('api_keys').insert({
    id,
    organization_id: organizationId,
    name,
    key_prefix: secret.slice(0, PREFIX_LENGTH),
    key_hash: hashSecret(secret),
  });
  return { id, secret };
}

export async function revokeApiKey(db: Knex, organizationId: string, keyId: string): Promise<boolean> {
  const count = await db('api_keys')
    .where({ id: keyId, organization_id: organizationId })
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now() });
  return count > 0;
}

/** The organization a (non-revoked) API key secret belongs to. */
export async function findOrganizationByApiKey(db: Knex, secret: string): Promise<Organization | undefined> {
  if (!SECRET_PATTERN.test(secret)) return undefined;
  const row = await db<OrganizationRow>('organizations')
    .join('api_keys', 'api_keys.organization_id', 'organizations.id')
    .where('api_keys.key_hash', hashSecret(secret))
    .whereNull('api_keys.revoked_at')
    .first(
      'organizations.id',
      'organizations.name',
      'organizations.time_zone',
      'organizations.stop_charging_on_declined_hold',
      'organizations.created_at',
    );
  return row && toOrganization(row);
}
