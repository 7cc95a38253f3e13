import type { Knex } from 'knex';
import { Dec } from '../../pricing/money';
import { newId } from '../ids';
import { canonicalDecimalOrNull } from './decimals';
import { isUniqueViolation } from './errors';
import { ApplicationRow, lockUser } from './promotionApplications';
import { CODE_FIELDS, CodeFields, CodeRow, expired, PromotionDiscount, toDiscount } from './promotionalCodes';

// The session workflow's side of promotions: which application a session gets, and redeeming it. A "use" of
// the code, what max_uses and single use per user count, is one application that got redeemed: a
// free_sessions code's later sessions do not count again.

export interface PromotionRedemption extends PromotionDiscount {
  id: string;
  applicationId: string;
  userId: string;
  sessionId: string;
  amountDiscounted: string | null;
  createdAt: Date;
}

export type RedemptionRefusal =
  'not_applied' | 'inactive' | 'expired' | 'exhausted' | 'already_used' | 'user_unknown' | 'session_unknown';

export type RedemptionResult =
  | ({ redeemed: true; redemptionId: string; applicationId: string } & PromotionDiscount)
  | { redeemed: false; reason: RedemptionRefusal };

interface RedemptionRow {
  id: string;
  organization_id: string;
  promotional_code_id: string;
  application_id: string;
  user_id: string;
  session_id: string;
  amount_discounted: string | null;
  created_at: Date;
}

const toRedemption = (row: RedemptionRow & CodeFields): PromotionRedemption => ({
  ...toDiscount(row.promotional_code_id, row),
  id: row.id,
  applicationId: row.application_id,
  userId: row.user_id,
  sessionId: row.session_id,
  amountDiscounted: canonicalDecimalOrNull(row.amount_discounted),
  createdAt: row.created_at,
});

async function redemptionOf(db: Knex, sessionId: string): Promise<(RedemptionRow & CodeFields) | undefined> {
  return db('promotion_redemptions as r')
    .join('promotional_codes as c', 'c.id', 'r.promotional_code_id')
    .where('r.session_id', sessionId)
    .first('r.*', ...CODE_FIELDS);
}

// A code that would still be redeemed for this application: a use already counted stays good while the code
// is active and unexpired; a new use also needs one left.
function whereRedeemable(query: Knex.QueryBuilder, db: Knex, at: Date): Knex.QueryBuilder {
  return query
    .where('c.active', true)
    .where((q) => q.whereNull('c.expires_at').orWhere('c.expires_at', '>', at))
    .where((q) =>
      q
        .whereNull('c.max_uses')
        .orWhereRaw('c.times_redeemed < c.max_uses')
        .orWhereExists(db('promotion_redemptions as r').whereRaw('r.application_id = a.id')),
    );
}

/**
 * The promotion a session gets if priced at `at`: the one it already redeemed (so that a retried caller sees
 * the same code after its application is used up), else a code bound to the session, else the oldest active
 * code on the driver's account. Without a session (a quote), only account codes. Read-only: redeemPromotion
 * decides for real.
 */
export async function findApplicablePromotion(
  db: Knex,
  input: { userId: string; sessionId: string | null; at: Date },
): Promise<PromotionDiscount | null> {
  const { sessionId } = input;
  const redeemed = sessionId === null ? undefined : await redemptionOf(db, sessionId);
  if (redeemed) return toDiscount(redeemed.promotional_code_id, redeemed);
  const query = db('promotion_applications as a')
    .join('promotional_codes as c', 'c.id', 'a.promotional_code_id')
    .where({ 'a.user_id': input.userId, 'a.status': 'active' })
    .where((q) =>
      sessionId === null
        ? q.whereNull('a.session_id')
        : q.where('a.session_id', sessionId).orWhereNull('a.session_id'),
    );
  const row: (ApplicationRow & CodeFields) | undefined = await whereRedeemable(query, db, input.at)
    .orderByRaw('a.session_id IS NULL, a.applied_at, a.id')
    .first('a.*', ...CODE_FIELDS);
  return row ? toDiscount(row.promotional_code_id, row) : null;
}

export interface RedeemInput {
  promotionalCodeId: string;
  userId: string;
  sessionId: string;
  at: Date;
}

const redeemedResult = (row: RedemptionRow & CodeFields): RedemptionResult => ({
  redeemed: true,
  redemptionId: row.id,
  applicationId: row.application_id,
  ...toDiscount(row.promotional_code_id, row),
});

const refused = (reason: RedemptionRefusal): RedemptionResult => ({ redeemed: false, reason });

async function redeemIn(trx: Knex, input: RedeemInput): Promise<RedemptionResult> {
  const organizationId = await lockUser(trx, input.userId);
  if (organizationId === undefined) return refused('user_unknown');
  // After the lock: a concurrent retry for the same session has committed by now.
  const first = await redemptionOf(trx, input.sessionId);
  if (first) return redeemedResult(first);
  const session = await trx('charging_sessions')
    .where({ id: input.sessionId, organization_id: organizationId })
    .first('id');
  if (!session) return refused('session_unknown');

  const application: ApplicationRow | undefined = await trx<ApplicationRow>('promotion_applications')
    .where({ promotional_code_id: input.promotionalCodeId, user_id: input.userId, status: 'active' })
    .where((q) => q.where('session_id', input.sessionId).orWhereNull('session_id'))
    .orderByRaw('session_id IS NULL, applied_at, id')
    .first();
  if (!application) return refused('not_applied');

  const earlier: Array<{ application_id: string }> = await trx('promotion_redemptions')
    .where({ promotional_code_id: input.promotionalCodeId, user_id: input.userId })
    .select('application_id');
  if (application.single_use && earlier.some((r) => r.application_id !== application.id))
    return refused('already_used');
  const newUse = !earlier.some((r) => r.application_id === application.id);
  const increment = newUse ? 1 : 0;

  // The row lock this UPDATE takes serialises redemptions of one code across users; the conditions are
  // evaluated on the latest committed row, so max_uses cannot be overshot.
  const [code]: CodeRow[] = await trx('promotional_codes')
    .where({ id: input.promotionalCodeId, active: true })
    .whereRaw('(max_uses IS NULL OR times_redeemed + ? <= max_uses)', [increment])
    .whereRaw('(expires_at IS NULL OR expires_at > ?)', [input.at])
    .update({ times_redeemed: trx.raw('times_redeemed + ?', [increment]) })
    .returning('*');
  if (!code) return refused(await whyNotRedeemable(trx, input.promotionalCodeId, input.at));

  const [redemption] = await trx<RedemptionRow>('promotion_redemptions')
    .insert({
      id: newId('promr'),
      organization_id: organizationId,
      promotional_code_id: code.id,
      application_id: application.id,
      user_id: input.userId,
      session_id: input.sessionId,
    })
    .returning('*');

  const left = application.free_sessions_left === null ? null : application.free_sessions_left - 1;
  await trx('promotion_applications')
    .where({ id: application.id })
    .update({
      free_sessions_left: left,
      status: left !== null && left > 0 ? 'active' : 'used_up',
      updated_at: trx.fn.now(),
    });
  return redeemedResult({ ...code, ...redemption });
}

async function whyNotRedeemable(trx: Knex, codeId: string, at: Date): Promise<RedemptionRefusal> {
  const code = await trx<CodeRow>('promotional_codes').where({ id: codeId }).first();
  if (!code) return 'not_applied';
  if (!code.active) return 'inactive';
  if (expired(code.expires_at, at)) return 'expired';
  return 'exhausted';
}

/**
 * Redeems the user's application of the code for the session, atomically: counts the use against max_uses,
 * enforces single use per user, spends a free session. Idempotent by session: a retry, or a second call
 * with another code, answers the session's first redemption.
 */
export async function redeemPromotion(db: Knex, input: RedeemInput): Promise<RedemptionResult> {
  try {
    return await db.transaction((trx) => redeemIn(trx, input));
  } catch (err) {
    // Only reachable when two calls for one session name different users (and so take different locks).
    if (isUniqueViolation(err, 'promotion_redemptions_session_id_unique')) {
      const first = await redemptionOf(db, input.sessionId);
      if (first) return redeemedResult(first);
    }
    throw err;
  }
}

export async function getRedemptionForSession(
  db: Knex,
  sessionId: string,
): Promise<PromotionRedemption | undefined> {
  const row = await redemptionOf(db, sessionId);
  return row && toRedemption(row);
}

/** The discount the priced session actually got, for reporting; set again when a session is re-priced. */
export async function recordRedemptionAmount(
  db: Knex,
  redemptionId: string,
  amount: string,
): Promise<boolean> {
  const value = new Dec(amount);
  if (value.isNegative() || !value.isFinite()) throw new RangeError(`discount amount must be ≥ 0: ${amount}`);
  const count = await db('promotion_redemptions')
    .where({ id: redemptionId })
    .update({ amount_discounted: value.toFixed() });
  return count > 0;
}
