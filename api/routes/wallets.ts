import { randomUUID } from 'node:crypto';
import type { Request, Router } from 'express';
import type { Knex } from 'knex';
import { appendAudit } from '../../db/repositories/auditLog';
import {
  getPaymentMode,
  type PaymentModeView,
  setPaymentMode,
  USER_PAYMENT_MODES,
} from '../../db/repositories/paymentModes';
import { getUser, type User } from '../../db/repositories/users';
import {
  ensureWallet,
  findWallet,
  grant,
  topUp,
  type WalletBalance,
  walletBalance,
  WalletError,
  type WalletEntry,
  walletHistory,
} from '../../db/repositories/wallets';
import { Dec } from '../../pricing/money';
import { minorUnitDigits } from '../../pricing/currency';
import { OPERATORS } from '../auth';
import { cardToCharge, chargeCard } from '../card-charges';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, missingParam, resourceMissing } from '../errors';
import { act, type RequestContext, read, write } from '../handler';
import { iso, money } from '../json';
import { listEnvelope, parsePage } from '../pagination';
import {
  type Body,
  optionalEnum,
  parseTimestamp,
  readBody,
  requiredDecimal,
  requiredString,
} from '../validation';

// A driver's prepaid wallet (docs/payments.md, "Wallets"): its balance and history for every member; top-ups
// by card (through the payment port), granted credit and the user's payment mode for owners and admins.

const MAX_KEY_LENGTH = 255;

const walletJson = (b: WalletBalance, mode: PaymentModeView | undefined) => {
  const c = b.wallet.currency;
  const granted = b.credits.filter((x) => x.source === 'granted');
  return {
    object: 'wallet',
    id: b.wallet.id,
    user_id: b.wallet.userId,
    currency: c,
    balance: b.balance,
    available: b.available,
    reserved: b.reserved,
    paid_balance: b.paid,
    granted_balance: b.granted,
    /** The soonest expiry of granted credit, with what expires then. */
    next_expiry: granted[0] ? { amount: granted[0].remaining, expires_at: iso(granted[0].expiresAt) } : null,
    credits: b.credits.map((x) => ({
      object: 'wallet_credit',
      id: x.id,
      source: x.source,
      amount: money(x.amount, c),
      remaining: money(x.remaining, c),
      held: money(x.held, c),
      expires_at: iso(x.expiresAt),
      reason: x.reason,
      created_at: iso(x.createdAt),
    })),
    payment_mode: mode?.mode ?? null,
    effective_payment_mode: mode?.effective ?? null,
    created_at: iso(b.wallet.createdAt),
  };
};

const entryJson = (e: WalletEntry, currency: string) => ({
  object: 'wallet_entry',
  id: e.id,
  kind: e.kind,
  amount: money(e.amount, currency),
  reserved_delta: money(e.reservedDelta, currency),
  currency,
  session_id: e.sessionId,
  reason: e.reason,
  provider_reference: e.providerReference,
  credits: e.lines.map((l) => ({
    credit_id: l.creditId,
    source: l.source,
    amount: money(l.amount, currency),
    reserved_delta: money(l.reservedDelta, currency),
  })),
  detail: e.detail,
  created_at: iso(e.createdAt),
});

const modeJson = (m: PaymentModeView) => ({
  object: 'payment_mode',
  user_id: m.userId,
  mode: m.mode,
  effective: m.effective,
});

async function userOf(db: Knex, organizationId: string, id: string): Promise<User> {
  const user = await getUser(db, organizationId, id);
  if (!user) throw resourceMissing('user', id);
  return user;
}

/** The wallet's currency, or the organization's for the wallet a first credit opens. */
async function currencyFor(ctx: RequestContext, userId: string): Promise<string> {
  return (await findWallet(ctx.db, ctx.org.id, userId))?.currency ?? ctx.org.currency;
}

function amountParam(body: Body, currency: string): string {
  return requiredDecimal(body, 'amount', {
    maxDecimals: minorUnitDigits(currency),
    maxIntegerDigits: 6,
    positive: true,
  });
}

/** WalletError from the repository as the API's error, naming the field it is about. */
function apiErrorOf(err: unknown): unknown {
  if (!(err instanceof WalletError)) return err;
  switch (err.code) {
    case 'invalid_amount':
      return invalidParam('amount', err.message);
    case 'invalid_expiry':
      return invalidParam('expires_at', err.message);
    case 'cursor_unknown':
      return invalidParam('starting_after', err.message);
    case 'currency_mismatch':
      return new ApiError(409, 'invalid_request_error', 'currency_mismatch', err.message);
    default:
      return new ApiError(404, 'invalid_request_error', 'resource_missing', err.message);
  }
}

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw apiErrorOf(err);
  }
}

/** The request's Idempotency-Key, checked like the one write() takes. */
function headerKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw invalidParam('Idempotency-Key', `must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`);
  }
  return key;
}

async function walletReply(ctx: RequestContext, userId: string) {
  const balance = await walletBalance(ctx.db, ctx.org.id, userId);
  return balance && walletJson(balance, await getPaymentMode(ctx.db, ctx.org.id, userId));
}

export function registerWalletRoutes(router: Router, deps: ResolvedDeps): void {
  router.get(
    '/users/:id/wallet',
    read(deps, async (ctx) => {
      await userOf(ctx.db, ctx.org.id, ctx.params.id);
      const wallet = await walletReply(ctx, ctx.params.id);
      if (!wallet) {
        throw new ApiError(
          404,
          'invalid_request_error',
          'resource_missing',
          `User ${ctx.params.id} has no wallet yet; a top-up or a grant opens one.`,
        );
      }
      return { status: 200, body: wallet };
    }),
  );

  // Oldest first, in the order the ledger was written; starting_after takes an entry id.
  router.get(
    '/users/:id/wallet/entries',
    read(deps, async ({ db, org, params, query }) => {
      await userOf(db, org.id, params.id);
      const page = parsePage(query);
      const wallet = await findWallet(db, org.id, params.id);
      if (!wallet)
        return { status: 200, body: { object: 'list', data: [], has_more: false, next_cursor: null } };
      const entries = await mapped(() => walletHistory(db, wallet.id, page));
      return {
        status: 200,
        body: listEnvelope(
          entries,
          (e) => entryJson(e, wallet.currency),
          (e) => e.id,
        ),
      };
    }),
  );

  // Charges the user's card (the saved one, or the one given) off-session through the payment port and
  // credits the wallet with paid credit. The provider call carries a key from the request's Idempotency-Key
  // (or a new one), so a retried request charges and credits once. No transaction is held during the call.
  router.post('/users/:id/wallet/top-ups', (req, res, next) =>
    act(deps, (ctx) => topUpRoute(ctx, req), OPERATORS)(req, res, next),
  );

  async function topUpRoute(ctx: RequestContext, req: Request) {
    const { db, org, principal, params } = ctx;
    const body = readBody(ctx.body ?? {}, ['amount', 'payment_method_id']);
    const key = headerKey(req);
    const user = await userOf(db, org.id, params.id);
    const currency = await currencyFor(ctx, user.id);
    const amount = amountParam(body, currency);
    const paymentMethodId = cardToCharge(body, user.paymentMethodId);
    const providerKey = `wallet-top-up:${user.id}:${key ?? randomUUID()}`;
    const done = await db('wallet_entries').where({ idempotency_key: providerKey }).first('amount', 'detail');
    if (done) {
      const same = new Dec(done.amount).eq(amount) && done.detail?.payment_method_id === paymentMethodId;
      if (!same) {
        throw new ApiError(
          409,
          'invalid_request_error',
          'idempotency_key_reused',
          'This Idempotency-Key was already used with a different request; use a new key for a new request.',
          'Idempotency-Key',
        );
      }
    }
    const result = await chargeCard(deps, db, {
      organizationId: org.id,
      sessionId: null,
      userId: user.id,
      customerId: user.paymentCustomerId,
      paymentMethodId,
      amount,
      currency,
      idempotencyKey: providerKey,
      kind: 'wallet_top_up',
      description: `Wallet top-up for user ${user.id}`,
      metadata: { user_id: user.id, organization_id: org.id, kind: 'wallet_top_up' },
    });
    const credited = await db.transaction(async (trx) => {
      const c = await mapped(() =>
        topUp(trx, {
          organizationId: org.id,
          userId: user.id,
          currency,
          amount,
          idempotencyKey: providerKey,
          providerReference: result.paymentId,
          paymentMethodId,
        }),
      );
      if (c.created) {
        await appendAudit(trx, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'wallet.topped_up',
          objectType: 'wallet',
          objectId: c.entry.walletId,
          after: entryJson(c.entry, currency),
        });
      }
      return c;
    });
    return {
      status: credited.created ? 201 : 200,
      body: { ...entryJson(credited.entry, currency), wallet: await walletReply(ctx, user.id) },
    };
  }

  // Granted credit (a promotion, a goodwill gesture): used before paid credit, gone at expires_at.
  router.post(
    '/users/:id/wallet/grants',
    write(
      deps,
      async (ctx) => {
        const { db, org, principal, params } = ctx;
        const body = readBody(ctx.body, ['amount', 'expires_at', 'reason']);
        const user = await userOf(db, org.id, params.id);
        const currency = await currencyFor(ctx, user.id);
        const amount = amountParam(body, currency);
        if (body.expires_at === undefined || body.expires_at === null) throw missingParam('expires_at');
        const expiresAt = parseTimestamp(body.expires_at, 'expires_at');
        if (expiresAt.getTime() <= Date.now()) throw invalidParam('expires_at', 'must be in the future');
        const reason = requiredString(body, 'reason', { max: 500, trim: true });
        const granted = await mapped(() =>
          grant(db, { organizationId: org.id, userId: user.id, currency, amount, expiresAt, reason }),
        );
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'wallet.granted',
          objectType: 'wallet',
          objectId: granted.entry.walletId,
          after: entryJson(granted.entry, currency),
        });
        return {
          status: 201,
          body: { ...entryJson(granted.entry, currency), wallet: await walletReply(ctx, user.id) },
        };
      },
      OPERATORS,
    ),
  );

  router.get(
    '/users/:id/payment-mode',
    read(deps, async ({ db, org, params }) => {
      const mode = await getPaymentMode(db, org.id, params.id);
      if (!mode) throw resourceMissing('user', params.id);
      return { status: 200, body: modeJson(mode) };
    }),
  );

  // card | wallet | invoice | roaming, or null for the default (the card when the user has one, else the
  // organization's invoice). A wallet user needs a wallet in the organization's currency (opened empty here).
  router.put(
    '/users/:id/payment-mode',
    write(
      deps,
      async ({ db, org, principal, params, body: raw }) => {
        const body = readBody(raw, ['mode']);
        if (!('mode' in body)) throw missingParam('mode');
        const mode = optionalEnum(body, 'mode', USER_PAYMENT_MODES) ?? null;
        const user = await userOf(db, org.id, params.id);
        if (mode === 'card' && !user.paymentMethodId)
          throw invalidParam('mode', 'card needs a saved payment method on the user (payment_method_id)');
        if (mode === 'wallet') {
          const wallet = await findWallet(db, org.id, user.id);
          if (wallet && wallet.currency !== org.currency) {
            throw invalidParam(
              'mode',
              `wallet needs a wallet in the organization's currency ${org.currency}; this one is in ${wallet.currency}`,
            );
          }
          if (!wallet)
            await ensureWallet(db, { organizationId: org.id, userId: user.id, currency: org.currency });
        }
        const before = await getPaymentMode(db, org.id, user.id);
        const after = (await setPaymentMode(db, org.id, user.id, mode))!;
        await appendAudit(db, {
          organizationId: org.id,
          actor: { type: 'member', id: principal.memberId },
          action: 'user.payment_mode_set',
          objectType: 'user',
          objectId: user.id,
          before: before && modeJson(before),
          after: modeJson(after),
        });
        return { status: 200, body: modeJson(after) };
      },
      OPERATORS,
    ),
  );
}
