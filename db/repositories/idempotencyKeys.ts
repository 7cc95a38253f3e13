import type { Knex } from 'knex';

/** What identifies a request for replay: the same key must come with the same method, path and body. */
export interface RequestFingerprint {
  method: string;
  path: string;
  requestHash: string;
}

export interface IdempotencyRecord extends RequestFingerprint {
  responseStatus: number;
  responseBody: unknown;
  createdAt: Date;
}

interface IdempotencyRow {
  organization_id: string;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  response_status: number;
  response_body: unknown;
  created_at: Date;
}

export async function findIdempotencyKey(
  db: Knex,
  organizationId: string,
  key: string,
): Promise<IdempotencyRecord | undefined> {
  const row = await db<IdempotencyRow>('idempotency_keys')
    .where({ organization_id: organizationId, key })
    .first();
  if (!row) return undefined;
  return {
    method: row.method,
    path: row.path,
    requestHash: row.request_hash,
    responseStatus: row.response_status,
    responseBody: row.response_body,
    createdAt: row.created_at,
  };
}

/**
 * Inserts the key, inside the transaction that will do the request's writes, with a placeholder response that
 * no one else can see before commit. A concurrent request with the same key blocks on the insert until this
 * transaction ends: false means another request committed the key first (its response is to be replayed).
 */
export async function claimIdempotencyKey(
  trx: Knex.Transaction,
  organizationId: string,
  key: string,
  request: RequestFingerprint,
): Promise<boolean> {
  const rows = await trx('idempotency_keys')
    .insert({
      organization_id: organizationId,
      key,
      method: request.method,
      path: request.path,
      request_hash: request.requestHash,
      response_status: 0,
      response_body: '{}',
    })
    .onConflict(['organization_id', 'key'])
    .ignore()
    .returning('key');
  return rows.length === 1;
}

export async function completeIdempotencyKey(
  trx: Knex.Transaction,
  organizationId: string,
  key: string,
  response: { status: number; body: unknown },
): Promise<void> {
  await trx('idempotency_keys')
    .where({ organization_id: organizationId, key })
    .update({ response_status: response.status, response_body: JSON.stringify(response.body) });
}
