import type { Knex } from 'knex';
import { findIdTagByValue } from '../../db/repositories/users';

export interface IdTagInfo {
  status: 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';
  expiryDate?: string;
}

/** OCPP idTagInfo for a tag presented at a charge point of the given organization. */
export async function lookupIdTag(
  db: Knex,
  organizationId: string,
  idTag: string,
  now: Date,
): Promise<IdTagInfo> {
  const tag = await findIdTagByValue(db, idTag);
  if (!tag || tag.organizationId !== organizationId) return { status: 'Invalid' };
  const expiryDate = tag.expiresAt?.toISOString();
  if (tag.status === 'Blocked') return { status: 'Blocked', expiryDate };
  if (tag.expiresAt && tag.expiresAt <= now) return { status: 'Expired', expiryDate };
  return { status: 'Accepted', expiryDate };
}
