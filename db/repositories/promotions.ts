import type { Knex } from 'knex';
import { Dec } from '../../pricing/money';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';
import { isUniqueViolation } from './errors';
import { fetchPage, Page, PageRequest } from './pagination';
import { findIdTagByValue } from './users';

// Model: an operator creates a code; a driver *applies* it, to the account (good for the next session, or the
// next N for free_sessions codes) or to one session at its start; the session workflow *redeems* the
// application when it prices the session. A "use" of the code, what max_uses and single use per user count,
// is one application that got redeemed: a free_sessions code's later sessions do not count again.

export type DiscountType = 'percent' | 'amount' | 'free_sessions';
export const DISCOUNT_TYPES: readonly DiscountType[] = ['percent', 'amount', 'free_sessions'];

export type ApplicationStatus = 'active' | 'used_up';

export interface PromotionalCode {
  id: string;
  organizationId: string;
  code: string;
  discountType: DiscountType;
  /** Decimal string: percent (0–100], amount in `currency`, or a whole number of free sessions. */
  discountValue: string;
  currency: string | null;
  maxUses: number | null;
  timesRedeemed: number;
  expiresAt: Date | null;
  allowMultipleUsesPerUser: boolean;
  active: boolean;
  createdAt: Date;
}

/** What a session's pricing needs to know about the code it gets. */
export interface PromotionDiscount {
  promotionalCodeId: string;
  code: string;
  discountType: DiscountType;
  discountValue: string;
  currency: string | null;
}

export interface PromotionApplication extends PromotionDiscount {
  id: string;
  organizationId: string;
  userId: string;
  sessionId: string | null;
  freeSessionsLeft: number | null;
  status: ApplicationStatus;
  appliedAt: Date;
}

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

interface CodeRow {
  id: string;
  organization_id: string;
  code: string;
  discount_type: DiscountType;
  discount_value: string;
  currency: string | null;
  max_uses: number | null;
  times_redeemed: number;
  expires_at: Date | null;
  allow_multiple_uses_per_user: boolean;
  active: boolean;
  created_at: Date;
}

interface ApplicationRow {
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

type CodeFields = Pick<CodeRow, 'code' | 'discount_type' | 'discount_value' | 'currency'>;

const CODE_FIELDS = ['c.code', 'c.discount_type', 'c.discount_value', 'c.currency'];

const toCode = (row: CodeRow): PromotionalCode => ({
  id: row.id,
  organizationId: row.organization_id,
  code: row.code,
  discountType: row.discount_type,
  discountValue: canonicalDecimal(row.discount_value),
  currency: row.currency,
  maxUses: row.max_uses,
  timesRedeemed: row.times_redeemed,
  expiresAt: row.expires_at,
  allowMultipleUsesPerUser: row.allow_multiple_uses_per_user,
  active: row.active,
  createdAt: row.created_at,
});

const toDiscount = (codeId: string, row: CodeFields): PromotionDiscount => ({
  promotionalCodeId: codeId,
  code: row.code,
  discountType: row.discount_type,
  discountValue: canonicalDecimal(row.discount_value),
  currency: row.currency,
});

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

const toRedemption = (row: RedemptionRow & CodeFields): PromotionRedemption => ({
  ...toDiscount(row.promotional_code_id, row),
  id: row.id,
  applicationId: row.application_id,
  userId: row.user_id,
  sessionId: row.session_id,
  amountDiscounted: row.amount_discounted === null ? null : canonicalDecimal(row.amount_discounted),
  createdAt: row.created_at,
});

// ---- codes (operator side)

export interface NewPromotionalCode {
  code: string;
  discountType: DiscountType;
  discountValue: string;
  currency: string | null;
  maxUses: number | null;
  expiresAt: Date | null;
  allowMultipleUsesPerUser: boolean;
}

/** The unique index behind "this code already exists", for callers that translate the violation. */
export const PROMOTIONAL_CODE_UNIQUE = 'promotional_codes_org_code_unique';

export async function createPromotionalCode(
  db: Knex,
  organizationId: string,
  input: NewPromotionalCode,
): Promise<PromotionalCode> {
  const [row] = await db<CodeRow>('promotional_codes')
    .insert({
      id: newId('promo'),
      organization_id: organizationId,
      code: input.code,
      discount_type: input.discountType,
      discount_value: input.discountValue,
      currency: input.currency,
      max_uses: input.maxUses,
      expires_at: input.expiresAt,
      allow_multiple_uses_per_user: input.allowMultipleUsesPerUser,
    })
    .returning('*');
  return toCode(row);
}

export async function getPromotionalCode(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<PromotionalCode | undefined> {
  const row = await db<CodeRow>('promotional_codes').where({ organization_id: organizationId, id }).first();
  return row && toCode(row);
}

/** Codes are matched the way drivers type them: case-insensitively. */
export async function findPromotionalCodeByCode(
  db: Knex,
  organizationId: string,
  code: string,
): Promise<PromotionalCode | undefined> {
  const row = await findCodeRow(db, organizationId, code);
  return row && toCode(row);
}

function findCodeRow(db: Knex, organizationId: string, code: string): Promise<CodeRow | undefined> {
  return db<CodeRow>('promotional_codes')
    .where({ organization_id: organizationId })
    .whereRaw('upper(code) = upper(?)', [code])
    .first();
}

export async function listPromotionalCodes(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { active?: boolean } = {},
): Promise<Page<PromotionalCode>> {
  const query = db('promotional_codes').where({ organization_id: organizationId });
  if (filter.active !== undefined) query.where({ active: filter.active });
  return fetchPage(query, page, 'id', toCode);
}

/** Stops new applications and redemptions; applications already redeemed keep their discount. Idempotent. */
export async function deactivatePromotionalCode(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<PromotionalCode | undefined> {
  const [row] = await db<CodeRow>('promotional_codes')
    .where({ organization_id: organizationId, id })
    .update({ active: false })
    .returning('*');
  return row && toCode(row);
}

// ---- applications (driver side)

/**
 * Every write to a user's applications and redemptions takes this lock first, so per-user rules (single use,
 * one redemption per application) are checked against committed state. NO KEY UPDATE, unlike UPDATE, does not
 * block rows being inserted that reference the user (sessions, id tags).
 */
async function lockUser(trx: Knex, userId: string, organizationId?: string): Promise<string | undefined> {
  const query = trx('users').where({ id: userId });
  if (organizationId !== undefined) query.where({ organization_id: organizationId });
  const row: { organization_id: string } | undefined = await query.first('organization_id').forNoKeyUpdate();
  return row?.organization_id;
}

function expired(expiresAt: Date | null, at: Date): boolean {
  return expiresAt !== null && expiresAt.getTime() <= at.getTime();
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

/** A code as a quote would apply it: active, unexpired at `at` and with a use left. Nothing is reserved. */
export async function findPromotionForQuote(
  db: Knex,
  organizationId: string,
  code: string,
  at: Date,
): Promise<PromotionDiscount | undefined> {
  const row = await findCodeRow(db, organizationId, code);
  if (!row || !row.active || expired(row.expires_at, at)) return undefined;
  if (row.max_uses !== null && row.times_redeemed >= row.max_uses) return undefined;
  return toDiscount(row.id, row);
}

// ---- redemption (the session workflow)

export interface RedeemInput {
  promotionalCodeId: string;
  userId: string;
  sessionId: string;
  at: Date;
}

async function redemptionOf(db: Knex, sessionId: string): Promise<(RedemptionRow & CodeFields) | undefined> {
  return db('promotion_redemptions as r')
    .join('promotional_codes as c', 'c.id', 'r.promotional_code_id')
    .where('r.session_id', sessionId)
    .first('r.*', ...CODE_FIELDS);
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
