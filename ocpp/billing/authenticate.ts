import type { Knex } from 'knex';
import { findChargePointByIdentity, verifyChargePointPassword } from '../../db/repositories/chargePoints';
import type { Authenticate } from '../server';

/**
 * Security profile 1: a registered identity, and its own password when one is set. An unknown identity is
 * 401 like a wrong password (OCPP-J's 404 would tell a scanner which identities exist); the log keeps the
 * difference.
 */
export function createAuthenticator(db: Knex): Authenticate {
  return async (identity, password) => {
    const cp = await findChargePointByIdentity(db, identity);
    if (!cp) return { ok: false, status: 401, reason: 'unknown charge point identity' };
    if (cp.password_hash) {
      if (password === undefined) return { ok: false, status: 401, reason: 'password required' };
      if (!(await verifyChargePointPassword(cp.password_hash, password))) {
        return { ok: false, status: 401, reason: 'wrong password' };
      }
    }
    return {
      ok: true,
      chargePoint: { id: cp.id, identity: cp.identity, organizationId: cp.organization_id },
    };
  };
}
