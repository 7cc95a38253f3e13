import type { Knex } from 'knex';
import type { RequestHandler, Response } from 'express';
import { findPrincipalByApiKey, Organization, Principal, Role } from '../db/repositories/organizations';
import { ApiError } from './errors';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="ev-billing"' };

const unauthorized = (code: string, message: string) =>
  new ApiError(401, 'authentication_error', code, message, null, CHALLENGE);

/** `Authorization: Bearer sk_...` resolves the member and organization every later check is scoped to. */
export function authenticate(db: Knex): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (header === undefined || header.trim() === '') {
      throw unauthorized('api_key_missing', 'No API key provided. Send it as Authorization: Bearer sk_...');
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) throw unauthorized('api_key_invalid', 'The Authorization header must be "Bearer <api key>".');
    const principal = await findPrincipalByApiKey(db, match[1]);
    if (!principal) throw unauthorized('api_key_invalid', 'Invalid API key provided.');
    res.locals.principal = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('route mounted without authentication');
  return principal;
}

export function organizationOf(res: Response): Organization {
  return principalOf(res).organization;
}

/**
 * Who may do what. Reading is open to every member. Operating the network (charge points, tariffs, rules,
 * users, sessions) is for owners and admins. Money decisions (approving exemptions, invoices, payouts) are
 * for owners and their billing delegates. Members and roles are the owner's.
 */
export const ANY_MEMBER: readonly Role[] = ['owner', 'admin', 'billing', 'viewer'];
export const OPERATORS: readonly Role[] = ['owner', 'admin'];
export const BILLING: readonly Role[] = ['owner', 'billing'];
export const OWNERS: readonly Role[] = ['owner'];
/** Accounting integrations (webhook endpoints, the audit log): everyone but viewers. */
export const ACCOUNTING: readonly Role[] = ['owner', 'admin', 'billing'];

export function requireRole(principal: Principal, allowed: readonly Role[]): void {
  if (allowed.includes(principal.role)) return;
  throw new ApiError(
    403,
    'permission_error',
    'role_not_allowed',
    `This API key acts for a member with the role '${principal.role}'; this request needs one of: ${allowed.join(', ')}.`,
  );
}
