import type { Knex } from 'knex';
import { newId } from '../ids';
import { fetchPage, Page, PageRequest } from './pagination';

export interface UserType {
  name: string;
  description: string | null;
  /** The tariff the operator chose for this type of driver; it takes precedence over location tariffs. */
  tariffId: string | null;
}

export interface User {
  id: string;
  organizationId: string;
  email: string;
  name: string | null;
  userType: string;
  paymentCustomerId: string | null;
  paymentMethodId: string | null;
  /** Membership rule conditions hold for sessions that start before this instant. */
  membershipValidUntil: Date | null;
  /** How the user pays (db/migrations/019); null: their card when they have one, else the invoice. */
  paymentMode: string | null;
  createdAt: Date;
}

/** `roaming`: a partner's token, billed to the partner; `terminal`: a contactless terminal's tag. */
export type IdTagType = 'rfid' | 'app' | 'roaming' | 'terminal';
export type IdTagStatus = 'Accepted' | 'Blocked';

export interface IdTag {
  id: string;
  organizationId: string;
  idTag: string;
  userId: string;
  type: IdTagType;
  status: IdTagStatus;
  expiresAt: Date | null;
  /** The eMSP partner of a roaming token (OCPI country code and party id, e.g. DE*ABC). */
  roamingParty: string | null;
  createdAt: Date;
}

interface UserTypeRow {
  organization_id: string;
  name: string;
  description: string | null;
  tariff_id: string | null;
}

interface UserRow {
  id: string;
  organization_id: string;
  email: string;
  name: string | null;
  user_type: string;
  payment_customer_id: string | null;
  payment_method_id: string | null;
  membership_valid_until: Date | null;
  payment_mode?: string | null;
  created_at: Date;
}

interface IdTagRow {
  id: string;
  organization_id: string;
  id_tag: string;
  user_id: string;
  type: IdTagType;
  status: IdTagStatus;
  expires_at: Date | null;
  roaming_party: string | null;
  created_at: Date;
}

const toUserType = (row: UserTypeRow): UserType => ({
  name: row.name,
  description: row.description,
  tariffId: row.tariff_id,
});

const toUser = (row: UserRow): User => ({
  id: row.id,
  organizationId: row.organization_id,
  email: row.email,
  name: row.name,
  userType: row.user_type,
  paymentCustomerId: row.payment_customer_id,
  paymentMethodId: row.payment_method_id,
  membershipValidUntil: row.membership_valid_until,
  paymentMode: row.payment_mode ?? null,
  createdAt: row.created_at,
});

const toIdTag = (row: IdTagRow): IdTag => ({
  id: row.id,
  organizationId: row.organization_id,
  idTag: row.id_tag,
  roamingParty: row.roaming_party ?? null,
  userId: row.user_id,
  type: row.type,
  status: row.status,
  expiresAt: row.expires_at,
  createdAt: row.created_at,
});

// ---- user types (keyed by name within an organization)

/** The caller checks that the tariff is the organization's (a foreign key enforces it too). */
export async function createUserType(
  db: Knex,
  organizationId: string,
  input: { name: string; description?: string | null; tariffId?: string | null },
): Promise<UserType> {
  const [row] = await db<UserTypeRow>('user_types')
    .insert({
      organization_id: organizationId,
      name: input.name,
      description: input.description ?? null,
      tariff_id: input.tariffId ?? null,
    })
    .returning('*');
  return toUserType(row);
}

/** Only the given fields change; null clears one. Undefined when the user type does not exist. */
export async function updateUserType(
  db: Knex,
  organizationId: string,
  name: string,
  changes: { description?: string | null; tariffId?: string | null },
): Promise<UserType | undefined> {
  const patch: Partial<UserTypeRow> = {};
  if (changes.description !== undefined) patch.description = changes.description;
  if (changes.tariffId !== undefined) patch.tariff_id = changes.tariffId;
  const query = db<UserTypeRow>('user_types').where({ organization_id: organizationId, name });
  const [row] =
    Object.keys(patch).length === 0 ? await query.select('*') : await query.update(patch).returning('*');
  return row && toUserType(row);
}

export async function getUserType(
  db: Knex,
  organizationId: string,
  name: string,
): Promise<UserType | undefined> {
  const row = await db<UserTypeRow>('user_types').where({ organization_id: organizationId, name }).first();
  return row && toUserType(row);
}

/** Paginated by name, the key of a user type. */
export async function listUserTypes(
  db: Knex,
  organizationId: string,
  page: PageRequest,
): Promise<Page<UserType>> {
  return fetchPage(db('user_types').where({ organization_id: organizationId }), page, 'name', toUserType);
}

// ---- users

export interface NewUser {
  email: string;
  name: string | null;
  userType: string;
  paymentCustomerId?: string | null;
  paymentMethodId?: string | null;
  membershipValidUntil?: Date | null;
}

export async function createUser(db: Knex, organizationId: string, input: NewUser): Promise<User> {
  const [row] = await db<UserRow>('users')
    .insert({
      id: newId('usr'),
      organization_id: organizationId,
      email: input.email,
      name: input.name,
      user_type: input.userType,
      payment_customer_id: input.paymentCustomerId ?? null,
      payment_method_id: input.paymentMethodId ?? null,
      membership_valid_until: input.membershipValidUntil ?? null,
    })
    .returning('*');
  return toUser(row);
}

/** Only the given fields change; null clears one. Undefined when the user is not the organization's. */
export async function updateUser(
  db: Knex,
  organizationId: string,
  id: string,
  changes: { membershipValidUntil?: Date | null },
): Promise<User | undefined> {
  const query = db<UserRow>('users').where({ organization_id: organizationId, id });
  const [row] =
    changes.membershipValidUntil === undefined
      ? await query.select('*')
      : await query.update({ membership_valid_until: changes.membershipValidUntil }).returning('*');
  return row && toUser(row);
}

export async function getUser(db: Knex, organizationId: string, id: string): Promise<User | undefined> {
  const row = await db<UserRow>('users').where({ organization_id: organizationId, id }).first();
  return row && toUser(row);
}

export async function findUserByEmail(
  db: Knex,
  organizationId: string,
  email: string,
): Promise<User | undefined> {
  const row = await db<UserRow>('users')
    .where({ organization_id: organizationId })
    .whereRaw('lower(email) = lower(?)', [email])
    .first();
  return row && toUser(row);
}

export async function listUsers(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { userType?: string } = {},
): Promise<Page<User>> {
  const query = db('users').where({ organization_id: organizationId });
  if (filter.userType !== undefined) query.where({ user_type: filter.userType });
  return fetchPage(query, page, 'id', toUser);
}

// ---- id tags

export interface NewIdTag {
  idTag: string;
  userId: string;
  type: IdTagType;
  status: IdTagStatus;
  expiresAt: Date | null;
  roamingParty?: string | null;
}

/**
 * OCPP idTags are CiStrings (case-insensitive) and global to the central system, while the column's unique
 * index is case-sensitive: the advisory lock serialises creators of the same tag so the check below holds.
 */
export async function lockIdTagValue(db: Knex, idTag: string): Promise<void> {
  await db.raw('SELECT pg_advisory_xact_lock(hashtext(lower(?)))', [idTag]);
}

/** Any organization's tag with this value, compared case-insensitively as OCPP does. */
export async function findIdTagByValue(db: Knex, idTag: string): Promise<IdTag | undefined> {
  const row = await db<IdTagRow>('id_tags').whereRaw('lower(id_tag) = lower(?)', [idTag]).first();
  return row && toIdTag(row);
}

/** Call inside a transaction after lockIdTagValue and findIdTagByValue. */
export async function createIdTag(db: Knex, organizationId: string, input: NewIdTag): Promise<IdTag> {
  const [row] = await db<IdTagRow>('id_tags')
    .insert({
      id: newId('tag'),
      organization_id: organizationId,
      id_tag: input.idTag,
      user_id: input.userId,
      type: input.type,
      status: input.status,
      expires_at: input.expiresAt,
      roaming_party: input.roamingParty ?? null,
    })
    .returning('*');
  return toIdTag(row);
}

export async function getIdTag(db: Knex, organizationId: string, id: string): Promise<IdTag | undefined> {
  const row = await db<IdTagRow>('id_tags').where({ organization_id: organizationId, id }).first();
  return row && toIdTag(row);
}

export async function listIdTags(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { userId?: string } = {},
): Promise<Page<IdTag>> {
  const query = db('id_tags').where({ organization_id: organizationId });
  if (filter.userId !== undefined) query.where({ user_id: filter.userId });
  return fetchPage(query, page, 'id', toIdTag);
}
