import type { Knex } from 'knex';
import { newId } from '../ids';
import { isUniqueViolation } from './errors';
import { CodeFields, CodeRow, expired, findCodeRow, PromotionDiscount, toDiscount } from './promotionalCodes';
import { findIdTagByValue } from './users';

// Model: an operator creates a code (promotionalCodes.ts); a driver *applies* it, to the account (good for the
// next session, or the next N for free_sessions codes) or to one session at its start (this file); the
// session workflow *redeems* the application when it prices the session (promotionRedemptions.ts). A "use"
// of the code, what max_uses and single use per user count, is one application that got redeemed: a
// free_sessions code's later sessions do not count again.

export type ApplicationStatus = 'active' | 'used_up';

export interface PromotionApplication extends PromotionDiscount {
  id: string;
  organizationId: string;
  userId: string;
  sessionId: string | null;
  freeSessionsLeft: number | null;
  status: ApplicationStatus;
  appliedAt: Date;
}

export type PromotionErrorCode =
  | 'promotional_code_unknown'
  | 'promotional_code_inactive'
  | 'promotional_code_expired'
  | 'promotional_code_exhausted'
  | 'promotional_code_already_used'
  | 'promotional_code_already_applied'
  | 'promotional_code_currency_mismatch'
  | 'user_unknown'
  | 'session_unknown'
  | 'session_not_open'
  | 'session_has_no_user'
  | 'session_promotion_exists';

/** Why a driver may not apply a code; the API answers with `code` as the error code. */
export class PromotionError extends Error {
  constructor(
    readonly code: PromotionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PromotionError';
  }
}

export interface ApplicationRow {
  id: string;
  organization_id: string;
  promotional_code_id: string;
  user_id: string;
  session_id: string | null;
  single_use: boolean;
  free_sessions_left: number | null;
  status: ApplicationStatus;
  applied_at: Date;
}

const toApplication = (row: ApplicationRow & CodeFields): PromotionApplication => ({
  ...toDiscount(row.promotional_code_id, row),
  id: row.id,
  organizationId: row.organization_id,
  userId: row.user_id,
  sessionId: row.session_id,
  freeSessionsLeft: row.free_sessions_left,
  status: row.status,
  appliedAt: row.applied_at,
});

/**
 * Every write to a user's applications and redemptions takes this lock first, so per-user rules (single use,
 * one redemption per application) are checked against committed state. NO KEY UPDATE, unlike UPDATE, does not
 * block rows being inserted that reference the user (sessions, id tags).
 */
export async function lockUser(
  trx: Knex,
  userId: string,
  organizationId?: string,
): Promise<string | undefined> {
  const query = trx('users').where({ id: userId });
  if (organizationId !== undefined) query.where({ organization_id: organizationId });
  const row: { organization_id: string } | undefined = await query.first('organization_id').forNoKeyUpdate();
  return row?.organization_id;
}

/** Call with the user locked. Refuses with the first reason that applies, from the code's state to the user's. */
async function checkEligible(trx: Knex, code: CodeRow, userId: string, at: Date): Promise<void> {
  if (!code.active)
    throw new PromotionError('promotional_code_inactive', `The code '${code.code}' is inactive.`);
  if (expired(code.expires_at, at))
    throw new PromotionError('promotional_code_expired', `The code '${code.code}' has expired.`);
  if (!code.allow_multiple_uses_per_user) {
    const previous = await trx<ApplicationRow>('promotion_applications')
      .where({ promotional_code_id: code.id, user_id: userId })
      .first('id');
    if (previous) {
      const redeemed = await trx('promotion_redemptions').where({ application_id: previous.id }).first('id');
      throw redeemed
        ? new PromotionError('promotional_code_already_used', `The code '${code.code}' was already used.`)
        : new PromotionError(
            'promotional_code_already_applied',
            `The code '${code.code}' is already applied and will be used on the next session.`,
          );
    }
  }
  // Applying does not reserve a use: the last uses go to whoever charges first, so this is a courtesy check.
  if (code.max_uses !== null && code.times_redeemed >= code.max_uses)
    throw new PromotionError('promotional_code_exhausted', `The code '${code.code}' has no uses left.`);
}

async function insertApplication(
  trx: Knex,
  code: CodeRow,
  userId: string,
  sessionId: string | null,
): Promise<PromotionApplication> {
  const [row] = await trx<ApplicationRow>('promotion_applications')
    .insert({
      id: newId('proma'),
      organization_id: code.organization_id,
      promotional_code_id: code.id,
      user_id: userId,
      session_id: sessionId,
      single_use: !code.allow_multiple_uses_per_user,
      free_sessions_left: code.discount_type === 'free_sessions' ? Number(code.discount_value) : null,
    })
    .returning('*');
  return toApplication({ ...code, ...row });
}

// The user lock makes these unreachable between our own writers; they remain for writers that skip it.
function translateApplyConflict(err: unknown): unknown {
  if (isUniqueViolation(err, 'promotion_applications_single_use'))
    return new PromotionError('promotional_code_already_applied', 'The code is already applied.');
  if (isUniqueViolation(err, 'promotion_applications_session_id_unique'))
    return new PromotionError('session_promotion_exists', 'The session already has a promotional code.');
  return err;
}

async function requireCode(trx: Knex, organizationId: string, code: string): Promise<CodeRow> {
  const row = await findCodeRow(trx, organizationId, code);
  if (!row) throw new PromotionError('promotional_code_unknown', `No such promotional code: '${code}'.`);
  return row;
}

/** Applies a code to a driver's account: it discounts their next session(s). */
export async function applyCodeToUser(
  db: Knex,
  organizationId: string,
  userId: string,
  code: string,
  at: Date,
): Promise<PromotionApplication> {
  try {
    return await db.transaction(async (trx) => {
      if (!(await lockUser(trx, userId, organizationId)))
        throw new PromotionError('user_unknown', `No such user: '${userId}'.`);
      const row = await requireCode(trx, organizationId, code);
      await checkEligible(trx, row, userId, at);
      return insertApplication(trx, row, userId, null);
    });
  } catch (err) {
    throw translateApplyConflict(err);
  }
}

/** Binds a code to one session at its start; the session's driver must be eligible for it. */
export async function applyCodeToSession(
  db: Knex,
  organizationId: string,
  sessionId: string,
  code: string,
  at: Date,
): Promise<PromotionApplication> {
  try {
    return await db.transaction(async (trx) => {
      const session: { user_id: string | null; id_tag: string; status: string; currency: string | null } =
        await trx('charging_sessions')
          .where({ id: sessionId, organization_id: organizationId })
          .first('user_id', 'id_tag', 'status', 'currency');
      if (!session) throw new PromotionError('session_unknown', `No such session: '${sessionId}'.`);
      if (session.status === 'completed' || session.status === 'unbilled') {
        throw new PromotionError(
          'session_not_open',
          `The session is ${session.status}; it can no longer be discounted.`,
        );
      }
      // A session still starting has no user yet; its id tag already says who the driver is.
      let userId = session.user_id;
      if (userId === null) {
        const tag = await findIdTagByValue(trx, session.id_tag);
        userId = tag && tag.organizationId === organizationId ? tag.userId : null;
      }
      if (userId === null || !(await lockUser(trx, userId, organizationId))) {
        throw new PromotionError(
          'session_has_no_user',
          'The session has no registered driver to apply a code for.',
        );
      }
      const row = await requireCode(trx, organizationId, code);
      const bound =
        (await trx('promotion_applications').where({ session_id: sessionId }).first('id')) ??
        (await trx('promotion_redemptions').where({ session_id: sessionId }).first('id'));
      if (bound)
        throw new PromotionError('session_promotion_exists', 'The session already has a promotional code.');
      await checkEligible(trx, row, userId, at);
      if (row.discount_type === 'amount' && session.currency !== null && session.currency !== row.currency) {
        throw new PromotionError(
          'promotional_code_currency_mismatch',
          `The code '${row.code}' is in ${row.currency}; the session is charged in ${session.currency}.`,
        );
      }
      return insertApplication(trx, row, userId, sessionId);
    });
  } catch (err) {
    throw translateApplyConflict(err);
  }
}
