import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../ids';

export interface PostalAddress {
  line1: string;
  line2?: string;
  postalCode: string;
  city: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

/** Who invoices are addressed and e-mailed to. */
export interface BillingContact {
  email: string | null;
  name: string | null;
  address: PostalAddress | null;
  vatNumber: string | null;
}

export interface Organization {
  id: string;
  name: string;
  /** ISO 4217; invoices are issued in it. */
  currency: string;
  /** The saved payment method invoices are charged to; without one they wait for a bank transfer. */
  paymentCustomerId: string | null;
  paymentMethodId: string | null;
  billingContact: BillingContact;
  /** IANA zone of the organization's calendar: monthly allowances reset at its midnight. */
  timeZone: string;
  /** Ask the charge point to stop when a session's card hold is declined. */
  stopChargingOnDeclinedHold: boolean;
  createdAt: Date;
}

interface OrganizationRow {
  id: string;
  name: string;
  currency: string;
  payment_customer_id: string | null;
  payment_method_id: string | null;
  billing_email: string | null;
  billing_name: string | null;
  billing_address: PostalAddress | null;
  vat_number: string | null;
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
    currency: row.currency,
    paymentCustomerId: row.payment_customer_id,
    paymentMethodId: row.payment_method_id,
    billingContact: {
      email: row.billing_email,
      name: row.billing_name,
      address: row.billing_address,
      vatNumber: row.vat_number,
    },
    timeZone: row.time_zone,
    stopChargingOnDeclinedHold: row.stop_charging_on_declined_hold,
    createdAt: row.created_at,
  };
}

/** With its owner, the member every first API key acts for. */
export async function createOrganization(
  db: Knex,
  input: { name: string; currency?: string; owner?: { email: string; name?: string } },
): Promise<Organization> {
  return db.transaction(async (trx) => {
    const [row] = await trx<OrganizationRow>('organizations')
      .insert({ id: newId('org'), name: input.name, currency: input.currency ?? 'EUR' })
      .returning('*');
    await trx('user_types').insert(DEFAULT_USER_TYPES.map((t) => ({ organization_id: row.id, ...t })));
    await trx('members').insert({
      id: newId('mem'),
      organization_id: row.id,
      email: input.owner?.email ?? `owner@${row.id.toLowerCase()}.invalid`,
      name: input.owner?.name ?? 'Owner',
      role: 'owner',
    });
    return toOrganization(row);
  });
}

export async function getOrganization(db: Knex, id: string): Promise<Organization | undefined> {
  const row = await db<OrganizationRow>('organizations').where({ id }).first();
  return row && toOrganization(row);
}

export interface OrganizationChanges {
  name?: string;
  timeZone?: string;
  currency?: string;
  stopChargingOnDeclinedHold?: boolean;
  paymentCustomerId?: string | null;
  paymentMethodId?: string | null;
  /** Only the given fields change; null clears one. */
  billingContact?: Partial<BillingContact>;
}

export async function updateOrganization(
  db: Knex,
  id: string,
  changes: OrganizationChanges,
): Promise<Organization | undefined> {
  const contact = changes.billingContact ?? {};
  const patch = {
    name: changes.name,
    time_zone: changes.timeZone,
    currency: changes.currency,
    stop_charging_on_declined_hold: changes.stopChargingOnDeclinedHold,
    payment_customer_id: changes.paymentCustomerId,
    payment_method_id: changes.paymentMethodId,
    billing_email: contact.email,
    billing_name: contact.name,
    billing_address: contact.address ? JSON.stringify(contact.address) : contact.address,
    vat_number: contact.vatNumber,
  };
  if (Object.values(patch).every((v) => v === undefined)) return getOrganization(db, id);
  const [row]: OrganizationRow[] = await db('organizations').where({ id }).update(patch).returning('*');
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
/** A key acting for the member given, or else for the organization's first owner. */
export async function createApiKey(
  db: Knex,
  organizationId: string,
  name: string,
  memberId?: string,
): Promise<{ id: string; secret: string }> {
  const member =
    memberId ??
    (
      await db('members')
        .where({ organization_id: organizationId, role: 'owner' })
        .whereNull('removed_at')
        .orderBy('created_at')
        .first('id')
    )?.id;
  if (!member) throw new Error(`organization ${organizationId} has no owner to hold an API key`);
  const secret = `sk_${randomBase62(SECRET_LENGTH)}`;
  const id = newId('key');
  await db('api_keys').insert({
    id,
    organization_id: organizationId,
    member_id: member,
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

export type Role = 'owner' | 'admin' | 'billing' | 'viewer';
export const ROLES: readonly Role[] = ['owner', 'admin', 'billing', 'viewer'];

/** Who a request acts as: the member an API key belongs to, in that member's organization. */
export interface Principal {
  organization: Organization;
  memberId: string;
  role: Role;
  apiKeyId: string;
}

/** The principal of a live API key of a live member. */
export async function findPrincipalByApiKey(db: Knex, secret: string): Promise<Principal | undefined> {
  if (!SECRET_PATTERN.test(secret)) return undefined;
  const row = await db('api_keys')
    .join('members', 'members.id', 'api_keys.member_id')
    .join('organizations', 'organizations.id', 'api_keys.organization_id')
    .where('api_keys.key_hash', hashSecret(secret))
    .whereNull('api_keys.revoked_at')
    .whereNull('members.removed_at')
    .first('organizations.*', {
      member_id: 'members.id',
      member_role: 'members.role',
      api_key_id: 'api_keys.id',
    });
  if (!row) return undefined;
  return {
    organization: toOrganization(row as OrganizationRow),
    memberId: row.member_id,
    role: row.member_role,
    apiKeyId: row.api_key_id,
  };
}
