import type { Knex } from 'knex';
import { newId } from '../ids';
import type { Role } from './organizations';
import { fetchPage, Page, PageRequest } from './pagination';

export interface Member {
  id: string;
  organizationId: string;
  email: string;
  name: string | null;
  role: Role;
  createdAt: Date;
}

interface MemberRow {
  id: string;
  organization_id: string;
  email: string;
  name: string | null;
  role: Role;
  created_at: Date;
  removed_at: Date | null;
}

export interface ApiKey {
  id: string;
  memberId: string;
  name: string;
  /** The first characters of the secret, to recognise a key without storing it. */
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const toMember = (row: MemberRow): Member => ({
  id: row.id,
  organizationId: row.organization_id,
  email: row.email,
  name: row.name,
  role: row.role,
  createdAt: row.created_at,
});

const live = (db: Knex, organizationId: string) =>
  db<MemberRow>('members').where({ organization_id: organizationId }).whereNull('removed_at');

export async function createMember(
  db: Knex,
  organizationId: string,
  input: { email: string; name?: string; role: Role },
): Promise<Member> {
  const [row] = await db<MemberRow>('members')
    .insert({
      id: newId('mem'),
      organization_id: organizationId,
      email: input.email,
      name: input.name ?? null,
      role: input.role,
    })
    .returning('*');
  return toMember(row);
}

export async function getMember(db: Knex, organizationId: string, id: string): Promise<Member | undefined> {
  const row = await live(db, organizationId).where({ id }).first();
  return row && toMember(row);
}

export async function findMemberByEmail(
  db: Knex,
  organizationId: string,
  email: string,
): Promise<Member | undefined> {
  const row = await live(db, organizationId).whereRaw('lower(email) = lower(?)', [email]).first();
  return row && toMember(row);
}

export async function listMembers(
  db: Knex,
  organizationId: string,
  page: PageRequest,
): Promise<Page<Member>> {
  return fetchPage(live(db, organizationId).select('*'), page, 'id', toMember);
}

/** Locks the organization's owners, so two requests cannot each remove "another" owner and leave none. */
async function otherOwners(trx: Knex, organizationId: string, exceptId: string): Promise<number> {
  const rows = await live(trx, organizationId).where({ role: 'owner' }).forUpdate().select('id');
  return rows.filter((r) => r.id !== exceptId).length;
}

export type MemberChange = { member: Member } | { refused: 'last_owner' } | undefined;

/** Undefined when no such live member; refused when it would leave the organization without an owner. */
export async function updateMember(
  db: Knex,
  organizationId: string,
  id: string,
  changes: { name?: string; role?: Role },
): Promise<MemberChange> {
  return db.transaction(async (trx) => {
    const current = await live(trx, organizationId).where({ id }).forUpdate().first();
    if (!current) return undefined;
    if (current.role === 'owner' && changes.role !== undefined && changes.role !== 'owner') {
      if ((await otherOwners(trx, organizationId, id)) === 0) return { refused: 'last_owner' as const };
    }
    if (changes.name === undefined && changes.role === undefined) return { member: toMember(current) };
    const [row] = await trx<MemberRow>('members')
      .where({ id })
      .update({ name: changes.name, role: changes.role })
      .returning('*');
    return { member: toMember(row) };
  });
}

/** Removes the member and revokes every key of theirs, in one transaction. */
export async function removeMember(db: Knex, organizationId: string, id: string): Promise<MemberChange> {
  return db.transaction(async (trx) => {
    const current = await live(trx, organizationId).where({ id }).forUpdate().first();
    if (!current) return undefined;
    if (current.role === 'owner' && (await otherOwners(trx, organizationId, id)) === 0) {
      return { refused: 'last_owner' as const };
    }
    await trx('api_keys')
      .where({ member_id: id })
      .whereNull('revoked_at')
      .update({ revoked_at: trx.fn.now() });
    const [row] = await trx<MemberRow>('members')
      .where({ id })
      .update({ removed_at: trx.fn.now() })
      .returning('*');
    return { member: toMember(row) };
  });
}

interface ApiKeyRow {
  id: string;
  member_id: string;
  name: string;
  key_prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}

const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  memberId: row.member_id,
  name: row.name,
  prefix: row.key_prefix,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export async function listApiKeys(
  db: Knex,
  organizationId: string,
  filter: { memberId?: string },
  page: PageRequest,
): Promise<Page<ApiKey>> {
  const query = db('api_keys')
    .where({ organization_id: organizationId })
    .select('id', 'member_id', 'name', 'key_prefix', 'created_at', 'revoked_at');
  if (filter.memberId) query.where({ member_id: filter.memberId });
  return fetchPage(query, page, 'id', toApiKey);
}

export async function getApiKey(db: Knex, organizationId: string, id: string): Promise<ApiKey | undefined> {
  const row: ApiKeyRow | undefined = await db('api_keys')
    .where({ organization_id: organizationId, id })
    .first();
  return row && toApiKey(row);
}
