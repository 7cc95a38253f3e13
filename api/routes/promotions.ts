import type { Router } from 'express';
import { appendAudit } from '../../db/repositories/auditLog';
import { isUniqueViolation } from '../../db/repositories/errors';
import {
  createPromotionalCode,
  deactivatePromotionalCode,
  DISCOUNT_TYPES,
  DiscountType,
  findPromotionalCodeByCode,
  getPromotionalCode,
  listPromotionalCodes,
  PROMOTIONAL_CODE_UNIQUE,
  PromotionalCode,
  PromotionDiscount,
} from '../../db/repositories/promotionalCodes';
import {
  applyCodeToSession,
  applyCodeToUser,
  PromotionApplication,
  PromotionError,
} from '../../db/repositories/promotionApplications';
import { isCurrency, minorUnitDigits } from '../../pricing/currency';
import type { ResolvedDeps } from '../deps';
import { alreadyExists, ApiError, invalidParam, missingParam, resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso, money } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import {
  Body,
  optionalBoolean,
  optionalInteger,
  optionalTimestamp,
  parseDecimal,
  readBody,
  requiredEnum,
  requiredString,
} from '../validation';

// Drivers type codes into an app, so they are short and unambiguous to read out.
const CODE = {
  min: 3,
  max: 40,
  pattern: /^[A-Za-z0-9_-]+$/,
  patternMessage: 'must be letters, digits, "-" or "_", e.g. "WELCOME20"',
};
// promotional_codes.max_uses is an integer column.
const INT32_MAX = 2_147_483_647;
const MAX_FREE_SESSIONS = 1000;
// discount_value is numeric(18,4).
const DISCOUNT_SCALE = 4;
const DISCOUNT_INTEGER_DIGITS = 14;

// A code and an application of it show the discount the same way.
const discountJson = (d: Omit<PromotionDiscount, 'promotionalCodeId'>) => ({
  code: d.code,
  discount_type: d.discountType,
  discount_value: d.discountType === 'amount' ? money(d.discountValue, d.currency) : d.discountValue,
  currency: d.currency,
});

const codeJson = (c: PromotionalCode) => ({
  object: 'promotional_code',
  id: c.id,
  ...discountJson(c),
  max_uses: c.maxUses,
  times_redeemed: c.timesRedeemed,
  expires_at: iso(c.expiresAt),
  allow_multiple_uses_per_user: c.allowMultipleUsesPerUser,
  active: c.active,
  created_at: iso(c.createdAt),
});

const applicationJson = (a: PromotionApplication) => ({
  object: 'promotion_application',
  id: a.id,
  promotional_code_id: a.promotionalCodeId,
  ...discountJson(a),
  user_id: a.userId,
  session_id: a.sessionId,
  free_sessions_left: a.freeSessionsLeft,
  status: a.status,
  applied_at: iso(a.appliedAt),
});

/** Only an amount is in a currency; a percent or a number of sessions with one would be ambiguous. */
function readCurrency(body: Body, type: DiscountType): string | null {
  const raw = body.currency;
  if (type !== 'amount') {
    if (raw !== undefined && raw !== null) throw invalidParam('currency', 'is only for discount_type amount');
    return null;
  }
  if (raw === undefined || raw === null) throw missingParam('currency');
  if (typeof raw !== 'string' || !isCurrency(raw)) {
    throw invalidParam('currency', 'must be an ISO 4217 currency code in upper case, e.g. EUR');
  }
  return raw;
}

function readDiscountValue(body: Body, type: DiscountType, currency: string | null): string {
  const raw = body.discount_value;
  if (raw === undefined || raw === null) throw missingParam('discount_value');
  switch (type) {
    case 'percent': {
      const value = parseDecimal(raw, 'discount_value', {
        maxDecimals: DISCOUNT_SCALE,
        maxIntegerDigits: 3,
        positive: true,
      });
      if (Number(value) > 100) throw invalidParam('discount_value', 'must be a percentage of at most 100');
      return value;
    }
    case 'amount':
      return parseDecimal(raw, 'discount_value', {
        maxDecimals: minorUnitDigits(currency!),
        maxIntegerDigits: DISCOUNT_INTEGER_DIGITS,
        positive: true,
      });
    case 'free_sessions': {
      const text = typeof raw === 'number' ? String(raw) : raw;
      const count = typeof text === 'string' && /^\d{1,4}$/.test(text) ? Number(text) : NaN;
      if (!(count >= 1 && count <= MAX_FREE_SESSIONS)) {
        throw invalidParam(
          'discount_value',
          `must be a whole number of sessions from 1 to ${MAX_FREE_SESSIONS}`,
        );
      }
      return String(count);
    }
  }
}

function readActiveFilter(query: Record<string, unknown>): boolean | undefined {
  const raw = queryString(query, 'active');
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw invalidParam('active', 'must be true or false');
  return raw === 'true';
}

// Refusals about the code name the `code` field; those about the session have no field to point at.
const CONFLICTS = new Set([
  'promotional_code_already_used',
  'promotional_code_already_applied',
  'session_promotion_exists',
]);
const SESSION_REFUSALS = new Set(['session_not_open', 'session_has_no_user', 'session_promotion_exists']);

function toApiError(err: unknown, ids: { userId?: string; sessionId?: string }): unknown {
  if (!(err instanceof PromotionError)) return err;
  if (err.code === 'user_unknown') return resourceMissing('user', ids.userId ?? '');
  if (err.code === 'session_unknown') return resourceMissing('session', ids.sessionId ?? '');
  return new ApiError(
    CONFLICTS.has(err.code) ? 409 : 422,
    'invalid_request_error',
    err.code,
    err.message,
    SESSION_REFUSALS.has(err.code) ? null : 'code',
  );
}

export function registerPromotionRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/promotional-codes',
    write(deps, async ({ db, org, principal, body: raw }) => {
      const body = readBody(raw, [
        'code',
        'discount_type',
        'discount_value',
        'currency',
        'max_uses',
        'expires_at',
        'allow_multiple_uses_per_user',
      ]);
      const code = requiredString(body, 'code', CODE);
      const discountType = requiredEnum(body, 'discount_type', DISCOUNT_TYPES);
      const currency = readCurrency(body, discountType);
      const discountValue = readDiscountValue(body, discountType, currency);
      const maxUses = optionalInteger(body, 'max_uses', 1, INT32_MAX) ?? null;
      const expiresAt = optionalTimestamp(body, 'expires_at') ?? null;
      if (expiresAt && expiresAt.getTime() <= Date.now())
        throw invalidParam('expires_at', 'must be in the future');
      const allowMultipleUsesPerUser = optionalBoolean(body, 'allow_multiple_uses_per_user') ?? false;

      const taken = () => alreadyExists('code', `A promotional code '${code}' already exists.`);
      if (await findPromotionalCodeByCode(db, org.id, code)) throw taken();
      try {
        const created = codeJson(
          await createPromotionalCode(db, org.id, {
            code,
            discountType,
            discountValue,
            currency,
            maxUses,
            expiresAt,
            allowMultipleUsesPerUser,
          }),
        );
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'promotional_code.created',
          objectType: 'promotional_code',
          objectId: created.id,
          after: created,
        });
        return { status: 201, body: created };
      } catch (err) {
        if (isUniqueViolation(err, PROMOTIONAL_CODE_UNIQUE)) throw taken();
        throw err;
      }
    }),
  );

  router.get(
    '/promotional-codes',
    read(deps, async ({ db, org, query }) => {
      const page = await listPromotionalCodes(db, org.id, parsePage(query), {
        active: readActiveFilter(query),
      });
      return { status: 200, body: listEnvelope(page, codeJson, (c) => c.id) };
    }),
  );

  router.get(
    '/promotional-codes/:id',
    read(deps, async ({ db, org, params }) => {
      const code = await getPromotionalCode(db, org.id, params.id);
      if (!code) throw resourceMissing('promotional code', params.id);
      return { status: 200, body: codeJson(code) };
    }),
  );

  router.post(
    '/promotional-codes/:id/deactivate',
    write(deps, async ({ db, org, principal, params, body: raw }) => {
      readBody(raw, []);
      const before = await getPromotionalCode(db, org.id, params.id);
      const code = await deactivatePromotionalCode(db, org.id, params.id);
      if (!before || !code) throw resourceMissing('promotional code', params.id);
      // Deactivating again changes nothing, so it is not a second entry.
      if (before.active) {
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'promotional_code.deactivated',
          objectType: 'promotional_code',
          objectId: code.id,
          before: codeJson(before),
          after: codeJson(code),
        });
      }
      return { status: 200, body: codeJson(code) };
    }),
  );

  // A driver applies a code to their account: it discounts their next session(s).
  router.post(
    '/users/:user_id/promotional-codes',
    write(deps, async ({ db, org, params, body: raw }) => {
      const code = requiredString(readBody(raw, ['code']), 'code', CODE);
      try {
        const application = await applyCodeToUser(db, org.id, params.user_id, code, new Date());
        return { status: 201, body: applicationJson(application) };
      } catch (err) {
        throw toApiError(err, { userId: params.user_id });
      }
    }),
  );

  // A driver applies a code at session start: it discounts that session only.
  router.post(
    '/sessions/:session_id/promotional-codes',
    write(deps, async ({ db, org, params, body: raw }) => {
      const code = requiredString(readBody(raw, ['code']), 'code', CODE);
      try {
        const application = await applyCodeToSession(db, org.id, params.session_id, code, new Date());
        return { status: 201, body: applicationJson(application) };
      } catch (err) {
        throw toApiError(err, { sessionId: params.session_id });
      }
    }),
  );
}
