import type { Knex } from 'knex';
import type { RequestHandler, Response } from 'express';
import { findOrganizationByApiKey, Organization } from '../db/repositories/organizations';
import { ApiError } from './errors';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="ev-billing"' };

const unauthorized = (code: string, message: string) =>
  new ApiError(401, 'authentication_error', code, message, null, CHALLENGE);

/** `Authorization: Bearer sk_...` resolves the organization every later query is scoped to. */
export function authenticate(db: Knex): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (header === undefined || header.trim() === '') {
      throw unauthorized('api_key_missing', 'No API key provided. Send it as Authorization: Bearer sk_...');
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) throw unauthorized('api_key_invalid', 'The Authorization header must be "Bearer <api key>".');
    const organization = await findOrganizationByApiKey(db, match[1]);
    if (!organization) throw unauthorized('api_key_invalid', 'Invalid API key provided.');
    res.locals.organization = organization;
    next();
  };
}

export function organizationOf(res: Response): Organization {
  const organization = res.locals.organization as Organization | undefined;
  if (!organization) throw new Error('route mounted without authentication');
  return organization;
}
