import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../config/logger';
import type { Organization, Principal, Role } from '../db/repositories/organizations';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  findIdempotencyKey,
  IdempotencyRecord,
  RequestFingerprint,
} from '../db/repositories/idempotencyKeys';
import { ANY_MEMBER, OPERATORS, principalOf, requireRole } from './auth';
import type { ResolvedDeps } from './deps';
import { ApiError, invalidParam } from './errors';

export interface RequestContext {
  /** For writes, the request's transaction: everything a handler writes commits or rolls back together. */
  db: Knex;
  org: Organization;
  /** The member the API key acts for. */
  principal: Principal;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  log: Logger;
}

/** Handlers return success; every failure is a thrown ApiError, which rolls the transaction back. */
export interface Reply {
  status: number;
  body: unknown;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

function context(req: Request, res: Response, db: Knex, log: Logger, body: unknown): RequestContext {
  // Express 5 types a param as string | string[] (for wildcards); our routes have only named params.
  const params = Object.fromEntries(
    Object.entries(req.params).map(([k, v]) => [k, Array.isArray(v) ? v.join('/') : v]),
  );
  const principal = principalOf(res);
  return { db, org: principal.organization, principal, params, query: req.query, body, log };
}

/** Checked before anything else runs, so a refused request reads and writes nothing. */
function allowed(res: Response, roles: readonly Role[]): void {
  requireRole(principalOf(res), roles);
}

function send(res: Response, reply: Reply): void {
  res.status(reply.status).json(reply.body);
}

export function read(
  deps: ResolvedDeps,
  handler: Handler,
  roles: readonly Role[] = ANY_MEMBER,
): RequestHandler {
  return async (req, res) => {
    allowed(res, roles);
    send(res, await handler(context(req, res, deps.db, deps.log, undefined)));
  };
}

/**
 * A POST that writes nothing but waits on the outside world (a charge point's answer, up to seconds): no
 * transaction, so a slow charge point holds no database connection. Not replayed by Idempotency-Key: the
 * result is the charge point's answer at that moment, and asking again asks the charge point again.
 */
export function act(
  deps: ResolvedDeps,
  handler: Handler,
  roles: readonly Role[] = OPERATORS,
): RequestHandler {
  return async (req, res) => {
    allowed(res, roles);
    send(res, await handler(context(req, res, deps.db, deps.log, jsonBody(req))));
  };
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** The parsed JSON body; no body at all reads as {} so the missing fields get named. */
function jsonBody(req: Request): unknown {
  if (req.body !== undefined) return req.body;
  if (hasBody(req)) {
    throw new ApiError(
      415,
      'invalid_request_error',
      'unsupported_media_type',
      'Send the request body as JSON with Content-Type: application/json.',
    );
  }
  return {};
}

// Key order and white space do not make a different request.
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw invalidParam(
      'Idempotency-Key',
      `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
    );
  }
  return key;
}

function replay(res: Response, stored: IdempotencyRecord, request: RequestFingerprint): void {
  const same =
    stored.method === request.method &&
    stored.path === request.path &&
    stored.requestHash === request.requestHash;
  if (!same) {
    throw new ApiError(
      409,
      'invalid_request_error',
      'idempotency_key_reused',
      'This Idempotency-Key was already used with a different request; use a new key for a new request.',
      'Idempotency-Key',
    );
  }
  res.status(stored.responseStatus).set('Idempotent-Replayed', 'true').json(stored.responseBody);
}

/**
 * A POST: runs in one transaction. With an Idempotency-Key the key is claimed in that same transaction and
 * stored with the response, so a retry gets the first response and a concurrent duplicate waits for the first
 * and then replays it. Failed requests store nothing and may be retried with the same key.
 */
export function write(
  deps: ResolvedDeps,
  handler: Handler,
  roles: readonly Role[] = OPERATORS,
): RequestHandler {
  return async (req, res) => {
    allowed(res, roles);
    const body = jsonBody(req);
    const key = idempotencyKeyOf(req);
    const run = (trx: Knex.Transaction) => handler(context(req, res, trx, deps.log, body));
    if (key === undefined) {
      send(res, await deps.db.transaction(run));
      return;
    }
    const org = principalOf(res).organization;
    const request: RequestFingerprint = {
      method: req.method,
      path: req.baseUrl + req.path,
      requestHash: createHash('sha256').update(canonicalJson(body)).digest('hex'),
    };
    // Two rounds: a concurrent request holding the key either committed (replay it) or rolled back (claim it).
    for (let round = 0; round < 2; round++) {
      const stored = await findIdempotencyKey(deps.db, org.id, key);
      if (stored) {
        replay(res, stored, request);
        return;
      }
      const reply = await deps.db.transaction(async (trx) => {
        if (!(await claimIdempotencyKey(trx, org.id, key, request))) return undefined;
        const result = await run(trx);
        await completeIdempotencyKey(trx, org.id, key, result);
        return result;
      });
      if (reply) {
        send(res, reply);
        return;
      }
    }
    throw new Error('idempotency key neither claimable nor stored');
  };
}
