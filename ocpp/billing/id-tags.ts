import type { Knex } from 'knex';

export interface IdTagInfo {
  status: 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';
  expiryDate?: string;
}

/** OCPP idTagInfo for a tag presented at a charge point of the given organization. */
export async function lookupIdTag(db: Knex, organizationId: string, idTag: string, now: Date): Promise<IdTagInfo> {
  const tag = await db('id_tags').where({ id_tag: idTag, organization_id: organizationId }).first();
  if (!tag) return { status: 'Invalid' };
  const expiryDate = tag.expires_at ? new Date(tag.expires_at).toISOString() : undefined;
  if (tag.status === 'Blocked') return { status: 'Blocked', expiryDate };
  if (tag.expires_at && new Date(tag.expires_at) <= now) return { status: 'Expired', expiryDate };
  return { status: 'Accepted', expiryDate };
}
