import Decimal from 'decimal.js';
import type { Knex } from 'knex';
import { isCurrency, minorUnitDigits } from '../../pricing/currency';
import { Dec, formatMoney, roundToMinor, toMinorUnits } from '../../pricing/money';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';
import type { Page, PageRequest } from './pagination';
import { type MovementKind, recordMovement } from './paymentMovements';

// The prepaid wallet (docs/payments.md, "Wallets"). Money sits in credits: paid credit (a top-up by card,
// never expires) and granted credit (a promotion, expires). Every change is an entry of an append-only
// ledger, split over the credits it touched (wallet_entry_credits); each credit keeps its remaining amount and
// what sessions hold of it in step with the ledger.
//
// Consumption order, for reservations and settlements alike: granted credit first, the soonest-expiring
// first, then paid credit, oldest first. A reservation holds specific credits, so granted credit a session
// reserved stays that session's even if it expires while the session runs; what it gives back after its
// expiry expires at once.
//
// Concurrency: every write locks the wallet's row (SELECT ... FOR UPDATE) before reading the credits, so the
// writes of one wallet run one after the other; the credits' CHECKs (held <= remaining, both >= 0) refuse
// anything that would spend more than the wallet has even if that rule were broken here.
//
// Idempotency: each entry has a unique key derived from business ids (`wallet:<session>:reserve`,
// `…:extend:<step>`, `…:settle`, `…:release`, a top-up's provider key), checked under the lock, so a retried
// activity or request writes once and answers the first result. Each entry is also a payment movement
// (payment_movements) under the same key.

export type CreditSource = 'paid' | 'granted';
export type EntryKind =
  'top_up' | 'grant' | 'reservation' | 'settlement' | 'release' | 'expiry' | 'adjustment';

export type WalletErrorCode =
  | 'user_missing'
  | 'wallet_missing'
  | 'currency_mismatch'
  | 'reservation_missing'
  | 'invalid_amount'
  | 'invalid_expiry'
  | 'cursor_unknown';

/** A refusal that retrying cannot fix (activities turn it into a non-retryable failure). */
export class WalletError extends Error {
  override readonly name = 'WalletError';
  constructor(
    readonly code: WalletErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Wallet {
  id: string;
  organizationId: string;
  userId: string;
  currency: string;
  createdAt: Date;
}

export interface WalletCredit {
  id: string;
  source: CreditSource;
  /** What the top-up or grant credited. */
  amount: string;
  /** What is left of it, held by sessions included. */
  remaining: string;
  /** The part of remaining that sessions have reserved. */
  held: string;
  /** Granted credit only. */
  expiresAt: Date | null;
  reason: string | null;
  createdAt: Date;
}

export interface WalletBalance {
  wallet: Wallet;
  /** Paid plus granted credit (what sessions reserved included; granted credit past its expiry only as far as held). */
  balance: string;
  /** Held by open reservations. */
  reserved: string;
  /** balance - reserved: what a new reservation can get. */
  available: string;
  paid: string;
  granted: string;
  /** Credits with something left, in consumption order. */
  credits: WalletCredit[];
}

export interface WalletEntryLine {
  creditId: string;
  source: CreditSource;
  amount: string;
  reservedDelta: string;
}

export interface WalletEntry {
  id: string;
  walletId: string;
  kind: EntryKind;
  /** Signed effect on the balance. */
  amount: string;
  /** Signed effect on what is reserved. */
  reservedDelta: string;
  sessionId: string | null;
  idempotencyKey: string;
  providerReference: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
  createdAt: Date;
  lines: WalletEntryLine[];
}

export interface Settlement {
  charged: string;
  /** The part of the cost the wallet could not cover: the driver owes it. */
  shortfall: string;
  /** What the session had reserved and did not need. */
  released: string;
}

interface WalletRow {
  id: string;
  organization_id: string;
  user_id: string;
  currency: string;
  created_at: Date;
}

interface CreditRow {
  id: string;
  wallet_id: string;
  source: CreditSource;
  amount: string;
  remaining: string;
  held: string;
  expires_at: Date | null;
  entry_id: string;
  created_at: Date;
  reason?: string | null;
}

interface EntryRow {
  id: string;
  seq: number;
  wallet_id: string;
  organization_id: string;
  kind: EntryKind;
  amount: string;
  reserved_delta: string;
  session_id: string | null;
  idempotency_key: string;
  provider_reference: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
  created_at: Date;
}

/** A credit as the writes see it under the lock. */
interface Credit {
  id: string;
  source: CreditSource;
  remaining: Dec;
  held: Dec;
  expiresAt: Date | null;
}

interface Line {
  creditId: string;
  amount: Dec;
  reservedDelta: Dec;
}

const ZERO = new Dec(0);

const MOVEMENT_OF: Record<EntryKind, MovementKind> = {
  top_up: 'wallet_top_up',
  grant: 'wallet_grant',
  reservation: 'wallet_reservation',
  settlement: 'wallet_settlement',
  release: 'wallet_release',
  expiry: 'wallet_expiry',
  adjustment: 'wallet_adjustment',
};

export const reserveKey = (sessionId: string) => `wallet:${sessionId}:reserve`;
export const extendKey = (sessionId: string, step: number) => `wallet:${sessionId}:extend:${step}`;
export const settleKey = (sessionId: string) => `wallet:${sessionId}:settle`;
const releaseKey = (sessionId: string, n: number) =>
  n === 1 ? `wallet:${sessionId}:release` : `wallet:${sessionId}:release:${n}`;

const toWallet = (r: WalletRow): Wallet => ({
  id: r.id,
  organizationId: r.organization_id,
  userId: r.user_id,
  currency: r.currency,
  createdAt: r.created_at,
});

const toCredit = (r: CreditRow): Credit => ({
  id: r.id,
  source: r.source,
  remaining: new Dec(r.remaining),
  held: new Dec(r.held),
  expiresAt: r.expires_at,
});

/** Granted credit past its expiry: only what a session holds of it can still be used (by that session). */
const isDue = (c: { source: CreditSource; expiresAt: Date | null }, now: Date) =>
  c.source === 'granted' && c.expiresAt !== null && c.expiresAt.getTime() <= now.getTime();

const free = (c: Credit) => c.remaining.minus(c.held);

// Soonest-expiring granted credit first, then paid credit, oldest first.
const CONSUMPTION_ORDER = "source = 'paid', expires_at ASC NULLS LAST, created_at, id";
const CONSUMPTION_ORDER_C = "c.source = 'paid', c.expires_at ASC NULLS LAST, c.created_at, c.id";

/** A non-negative amount in the wallet's currency, at most its minor-unit digits unless `round` says how. */
function amountOf(value: string, what: string, currency: string, round?: 'up' | 'half_up'): Dec {
  let amount: Dec;
  try {
    amount = new Dec(value);
  } catch {
    throw new WalletError('invalid_amount', `${what} is not a decimal number: ${value}`);
  }
  if (!amount.isFinite() || amount.isNegative())
    throw new WalletError('invalid_amount', `${what} must be >= 0: ${value}`);
  const digits = minorUnitDigits(currency);
  if (round === 'up') return amount.toDecimalPlaces(digits, Decimal.ROUND_UP);
  if (round === 'half_up') return roundToMinor(amount, currency);
  if (amount.decimalPlaces() > digits)
    throw new WalletError('invalid_amount', `${what} has more than ${digits} decimals for ${currency}`);
  return amount;
}

async function userOrganization(db: Knex, organizationId: string, userId: string): Promise<string> {
  const row = await db('users as u')
    .join('organizations as o', 'o.id', 'u.organization_id')
    .where({ 'u.id': userId, 'u.organization_id': organizationId })
    .first('o.currency');
  if (!row) throw new WalletError('user_missing', `no user ${userId} in organization ${organizationId}`);
  return row.currency;
}

/** The user's wallet, opened (empty, in `currency` or else the organization's) when they have none. */
export async function ensureWallet(
  db: Knex,
  w: { organizationId: string; userId: string; currency?: string },
): Promise<Wallet> {
  const orgCurrency = await userOrganization(db, w.organizationId, w.userId);
  const currency = (w.currency ?? orgCurrency).toUpperCase();
  if (!isCurrency(currency)) throw new WalletError('currency_mismatch', `unknown currency ${currency}`);
  await db('wallets')
    .insert({ id: newId('wal'), organization_id: w.organizationId, user_id: w.userId, currency })
    .onConflict('user_id')
    .ignore();
  const wallet = toWallet((await db<WalletRow>('wallets').where({ user_id: w.userId }).first())!);
  if (wallet.organizationId !== w.organizationId)
    throw new WalletError('user_missing', `no user ${w.userId} in organization ${w.organizationId}`);
  if (wallet.currency !== currency) {
    throw new WalletError(
      'currency_mismatch',
      `the wallet of user ${w.userId} is in ${wallet.currency}, not ${currency}`,
    );
  }
  return wallet;
}

export async function findWallet(
  db: Knex,
  organizationId: string,
  userId: string,
): Promise<Wallet | undefined> {
  const row = await db<WalletRow>('wallets')
    .where({ organization_id: organizationId, user_id: userId })
    .first();
  return row && toWallet(row);
}

async function lockWallet(trx: Knex, walletId: string): Promise<Wallet> {
  const row = await trx<WalletRow>('wallets').where({ id: walletId }).forUpdate().first();
  if (!row) throw new WalletError('wallet_missing', `no wallet ${walletId}`);
  return toWallet(row);
}

async function openCredits(trx: Knex, walletId: string): Promise<Credit[]> {
  const rows: CreditRow[] = await trx('wallet_credits')
    .where({ wallet_id: walletId })
    .where('remaining', '>', 0)
    .orderByRaw(CONSUMPTION_ORDER);
  return rows.map(toCredit);
}

const entryByKey = (trx: Knex, key: string): Promise<EntryRow | undefined> =>
  trx<EntryRow>('wallet_entries').where({ idempotency_key: key }).first();

/** What the session holds now, per credit. */
async function sessionHolds(trx: Knex, sessionId: string): Promise<Map<string, Dec>> {
  const rows: { credit_id: string; held: string }[] = await trx('wallet_entry_credits as l')
    .join('wallet_entries as e', 'e.id', 'l.entry_id')
    .where('e.session_id', sessionId)
    .groupBy('l.credit_id')
    .havingRaw('sum(l.reserved_delta) <> 0')
    .select('l.credit_id', trx.raw('sum(l.reserved_delta) as held'));
  return new Map(rows.map((r) => [r.credit_id, new Dec(r.held)]));
}

const total = (values: Iterable<Dec>) => [...values].reduce((a, b) => a.plus(b), ZERO);

interface NewEntry {
  kind: EntryKind;
  idempotencyKey: string;
  sessionId?: string | null;
  providerReference?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown>;
  lines: Line[];
  /** For a top-up or grant: the credit it creates (its line is added here). */
  newCredit?: { id: string; source: CreditSource; amount: Dec; expiresAt: Date | null };
  /** The payment movement under the entry's key; null for a part of another entry's movement. */
  movement: { status: string; amount: Dec } | null;
}

/**
 * Appends an entry with its lines, moves the credits' remaining and held with it (the in-memory `credits` too),
 * and records the payment movement under the entry's key.
 */
async function appendEntry(trx: Knex, wallet: Wallet, credits: Credit[], e: NewEntry): Promise<EntryRow> {
  const lines = e.lines.filter((l) => !l.amount.isZero() || !l.reservedDelta.isZero());
  const id = newId('wle');
  const amount = total(lines.map((l) => l.amount)).plus(e.newCredit?.amount ?? 0);
  const reservedDelta = total(lines.map((l) => l.reservedDelta));
  const [row]: EntryRow[] = await trx('wallet_entries')
    .insert({
      id,
      wallet_id: wallet.id,
      organization_id: wallet.organizationId,
      kind: e.kind,
      amount: amount.toFixed(),
      reserved_delta: reservedDelta.toFixed(),
      session_id: e.sessionId ?? null,
      idempotency_key: e.idempotencyKey,
      provider_reference: e.providerReference ?? null,
      reason: e.reason ?? null,
      detail: e.detail === undefined ? null : JSON.stringify(e.detail),
    })
    .returning('*');
  if (e.newCredit) {
    const c = e.newCredit;
    await trx('wallet_credits').insert({
      id: c.id,
      wallet_id: wallet.id,
      source: c.source,
      amount: c.amount.toFixed(),
      remaining: c.amount.toFixed(),
      held: 0,
      expires_at: c.expiresAt,
      entry_id: id,
    });
    lines.push({ creditId: c.id, amount: c.amount, reservedDelta: ZERO });
    credits.push({ id: c.id, source: c.source, remaining: c.amount, held: ZERO, expiresAt: c.expiresAt });
  } else {
    for (const l of lines) {
      await trx('wallet_credits')
        .where({ id: l.creditId, wallet_id: wallet.id })
        .update({
          remaining: trx.raw('remaining + ?', [l.amount.toFixed()]),
          held: trx.raw('held + ?', [l.reservedDelta.toFixed()]),
        });
      const credit = credits.find((c) => c.id === l.creditId)!;
      credit.remaining = credit.remaining.plus(l.amount);
      credit.held = credit.held.plus(l.reservedDelta);
    }
  }
  if (lines.length > 0) {
    await trx('wallet_entry_credits').insert(
      lines.map((l) => ({
        entry_id: id,
        credit_id: l.creditId,
        amount: l.amount.toFixed(),
        reserved_delta: l.reservedDelta.toFixed(),
      })),
    );
  }
  await trx('wallets').where({ id: wallet.id }).update({ updated_at: trx.fn.now() });
  if (e.movement === null) return row;
  await recordMovement(trx, {
    organizationId: wallet.organizationId,
    sessionId: e.sessionId ?? null,
    userId: wallet.userId,
    kind: MOVEMENT_OF[e.kind],
    status: e.movement.status,
    amount: formatMoney(e.movement.amount.abs(), wallet.currency),
    amountMinor: toMinorUnits(e.movement.amount.abs(), wallet.currency),
    currency: wallet.currency,
    providerReference: e.providerReference ?? null,
    idempotencyKey: e.idempotencyKey,
    detail: { wallet_id: wallet.id, entry_id: id, ...e.detail },
  });
  return row;
}

/** Expires what nobody holds of granted credit past its expiry: one entry per credit. Answers how many. */
async function expireDue(trx: Knex, wallet: Wallet, credits: Credit[], now: Date): Promise<number> {
  let expired = 0;
  for (const credit of credits) {
    const amount = free(credit);
    if (!isDue(credit, now) || amount.lte(0)) continue;
    const [{ n }] = await trx('wallet_entry_credits as l')
      .join('wallet_entries as e', 'e.id', 'l.entry_id')
      .where({ 'l.credit_id': credit.id, 'e.kind': 'expiry' })
      .count<{ n: number }[]>('* as n');
    const seq = Number(n) + 1;
    await appendEntry(trx, wallet, credits, {
      kind: 'expiry',
      idempotencyKey: seq === 1 ? `wallet-expiry:${credit.id}` : `wallet-expiry:${credit.id}:${seq}`,
      reason: 'granted credit expired',
      detail: { credit_id: credit.id, expired_at: credit.expiresAt!.toISOString() },
      lines: [{ creditId: credit.id, amount: amount.neg(), reservedDelta: ZERO }],
      movement: { status: 'succeeded', amount },
    });
    expired++;
  }
  return expired;
}

/** Holds up to `amount` of free, unexpired credit in consumption order: the lines of a reservation. */
function allocate(credits: Credit[], amount: Dec, now: Date): Line[] {
  const lines: Line[] = [];
  let left = amount;
  for (const credit of credits) {
    if (left.lte(0)) break;
    if (isDue(credit, now)) continue;
    const take = Dec.min(left, free(credit));
    if (take.lte(0)) continue;
    lines.push({ creditId: credit.id, amount: ZERO, reservedDelta: take });
    left = left.minus(take);
  }
  return lines;
}

const available = (credits: Credit[], now: Date) =>
  total(credits.filter((c) => !isDue(c, now)).map((c) => Dec.max(0, free(c))));

const reservationStatus = (reserved: Dec, requested: Dec) =>
  reserved.isZero() && requested.gt(0) ? 'empty' : reserved.lt(requested) ? 'partial' : 'succeeded';

async function reservationOf(trx: Knex, sessionId: string): Promise<EntryRow | undefined> {
  return entryByKey(trx, reserveKey(sessionId));
}

export interface ReserveInput {
  organizationId: string;
  userId: string;
  sessionId: string;
  /** The expected cost; rounded up to the currency's minor unit. */
  amount: string;
  /** The session's currency; the wallet must be in it (an empty wallet is opened in it when the user has none). */
  currency?: string;
  now?: Date;
}

/**
 * Reserves up to `amount` of what the wallet has available for a session that starts; answers what it
 * reserved ("0" when the wallet is empty). Once per session: a retry answers the first reservation.
 */
export async function reserve(db: Knex, r: ReserveInput): Promise<string> {
  const now = r.now ?? new Date();
  return db.transaction(async (trx) => {
    const first = await reservationOf(trx, r.sessionId);
    if (first) return canonicalDecimal(first.reserved_delta);
    const wallet = await lockWallet(trx, (await ensureWallet(trx, r)).id);
    const again = await reservationOf(trx, r.sessionId);
    if (again) return canonicalDecimal(again.reserved_delta);
    const requested = amountOf(r.amount, 'amount', wallet.currency, 'up');
    const credits = await openCredits(trx, wallet.id);
    await expireDue(trx, wallet, credits, now);
    const lines = allocate(credits, requested, now);
    const reserved = total(lines.map((l) => l.reservedDelta));
    await appendEntry(trx, wallet, credits, {
      kind: 'reservation',
      idempotencyKey: reserveKey(r.sessionId),
      sessionId: r.sessionId,
      detail: { requested: requested.toFixed() },
      lines,
      movement: { status: reservationStatus(reserved, requested), amount: reserved },
    });
    return reserved.toFixed();
  });
}

/** The session's reservation entry and its wallet, locked; WalletError when the session reserved nothing. */
async function lockSession(trx: Knex, sessionId: string): Promise<{ wallet: Wallet; reservation: EntryRow }> {
  const reservation = await reservationOf(trx, sessionId);
  if (!reservation)
    throw new WalletError('reservation_missing', `session ${sessionId} has no wallet reservation`);
  return { wallet: await lockWallet(trx, reservation.wallet_id), reservation };
}

/**
 * Reserves `amount` more for a running session, as far as the wallet has it available; answers the
 * session's new reserved total. `step` (1, 2, ...) numbers the extensions of a session, so a retried
 * extension reserves once. A settled session reserves nothing more.
 */
export async function extendReservation(
  db: Knex,
  r: { sessionId: string; amount: string; step: number; now?: Date },
): Promise<string> {
  if (!Number.isSafeInteger(r.step) || r.step < 1)
    throw new WalletError('invalid_amount', `step must be an integer >= 1: ${r.step}`);
  const now = r.now ?? new Date();
  return db.transaction(async (trx) => {
    const { wallet } = await lockSession(trx, r.sessionId);
    const held = async () => total((await sessionHolds(trx, r.sessionId)).values()).toFixed();
    if (
      (await entryByKey(trx, settleKey(r.sessionId))) ||
      (await entryByKey(trx, extendKey(r.sessionId, r.step)))
    )
      return held();
    const requested = amountOf(r.amount, 'amount', wallet.currency, 'up');
    const credits = await openCredits(trx, wallet.id);
    await expireDue(trx, wallet, credits, now);
    const lines = allocate(credits, requested, now);
    const reserved = total(lines.map((l) => l.reservedDelta));
    await appendEntry(trx, wallet, credits, {
      kind: 'reservation',
      idempotencyKey: extendKey(r.sessionId, r.step),
      sessionId: r.sessionId,
      detail: { requested: requested.toFixed(), step: r.step },
      lines,
      movement: { status: reservationStatus(reserved, requested), amount: reserved },
    });
    return held();
  });
}

/** Releases what the session holds (one release entry); answers the amount. */
async function releaseHolds(
  trx: Knex,
  wallet: Wallet,
  credits: Credit[],
  sessionId: string,
  reason: string,
  record: boolean,
): Promise<Dec> {
  const holds = await sessionHolds(trx, sessionId);
  const lines = [...holds].map(([creditId, held]) => ({ creditId, amount: ZERO, reservedDelta: held.neg() }));
  const released = total(holds.values());
  if (released.lte(0)) return ZERO;
  const [{ n }] = await trx('wallet_entries')
    .where({ session_id: sessionId, kind: 'release' })
    .count<{ n: number }[]>('* as n');
  await appendEntry(trx, wallet, credits, {
    kind: 'release',
    idempotencyKey: releaseKey(sessionId, Number(n) + 1),
    sessionId,
    reason,
    lines,
    // A settlement books the release of the rest in its own movement, as a card's final capture does.
    movement: record ? { status: 'succeeded', amount: released } : null,
  });
  return released;
}

/**
 * Settles a session: takes min(cost, reserved + available) from the wallet (from the credits the session holds
 * first, then from available credit, both in consumption order) and releases the rest of its reservation.
 * Idempotent per session: a retry answers the first settlement. A session that reserved nothing cannot be
 * settled (WalletError reservation_missing); one whose reservation was released is charged from what is
 * available.
 */
export async function settle(
  db: Knex,
  s: { sessionId: string; cost: string; now?: Date },
): Promise<Settlement> {
  const now = s.now ?? new Date();
  return db.transaction(async (trx) => {
    const { wallet } = await lockSession(trx, s.sessionId);
    const done = await entryByKey(trx, settleKey(s.sessionId));
    if (done) {
      const d = done.detail as { charged: string; shortfall: string; released: string };
      return { charged: d.charged, shortfall: d.shortfall, released: d.released };
    }
    const cost = amountOf(s.cost, 'cost', wallet.currency, 'half_up');
    const credits = await openCredits(trx, wallet.id);
    await expireDue(trx, wallet, credits, now);
    const holds = await sessionHolds(trx, s.sessionId);
    const reserved = total(holds.values());
    const lines = new Map<string, Line>();
    let left = cost;
    for (const credit of credits) {
      const held = holds.get(credit.id) ?? ZERO;
      const take = Dec.min(left, held);
      if (take.lte(0)) continue;
      lines.set(credit.id, { creditId: credit.id, amount: take.neg(), reservedDelta: take.neg() });
      left = left.minus(take);
    }
    for (const credit of credits) {
      if (left.lte(0)) break;
      if (isDue(credit, now)) continue;
      const take = Dec.min(left, free(credit));
      if (take.lte(0)) continue;
      const line = lines.get(credit.id) ?? { creditId: credit.id, amount: ZERO, reservedDelta: ZERO };
      lines.set(credit.id, { ...line, amount: line.amount.minus(take) });
      left = left.minus(take);
    }
    const charged = cost.minus(left);
    const coveredByHolds = total([...lines.values()].map((l) => l.reservedDelta.neg()));
    const released = reserved.minus(coveredByHolds);
    const format = (d: Dec) => formatMoney(d, wallet.currency);
    const detail = {
      cost: format(cost),
      charged: format(charged),
      shortfall: format(left),
      reserved: format(reserved),
      released: format(released),
    };
    await appendEntry(trx, wallet, credits, {
      kind: 'settlement',
      idempotencyKey: settleKey(s.sessionId),
      sessionId: s.sessionId,
      detail,
      lines: [...lines.values()],
      movement: { status: charged.gt(0) ? 'succeeded' : 'nothing_charged', amount: charged },
    });
    await releaseHolds(trx, wallet, credits, s.sessionId, 'the session was settled', false);
    await expireDue(trx, wallet, credits, now);
    return { charged: detail.charged, shortfall: detail.shortfall, released: detail.released };
  });
}

/**
 * Gives back everything a session holds (a session that never started, or ended without a price to
 * settle); answers the amount released, "0" when it holds nothing (or never reserved).
 */
export async function release(db: Knex, sessionId: string, now: Date = new Date()): Promise<string> {
  return db.transaction(async (trx) => {
    const reservation = await reservationOf(trx, sessionId);
    if (!reservation) return '0';
    const { wallet } = await lockSession(trx, sessionId);
    const credits = await openCredits(trx, wallet.id);
    const released = await releaseHolds(trx, wallet, credits, sessionId, 'the session ended unsettled', true);
    await expireDue(trx, wallet, credits, now);
    return released.toFixed();
  });
}

export interface CreditInput {
  organizationId: string;
  userId: string;
  /** Positive, at most the currency's minor-unit digits. */
  amount: string;
  /** Defaults to the wallet's currency, or the organization's for a new wallet. */
  currency?: string;
  idempotencyKey?: string;
  reason?: string | null;
  now?: Date;
}

export interface Credited {
  entry: WalletEntry;
  creditId: string;
  /** False when the key had credited already: the first entry is answered. */
  created: boolean;
}

async function credit(
  db: Knex,
  c: CreditInput & {
    kind: 'top_up' | 'grant' | 'adjustment';
    source: CreditSource;
    expiresAt: Date | null;
    providerReference?: string | null;
    detail?: Record<string, unknown>;
  },
): Promise<Credited> {
  const now = c.now ?? new Date();
  return db.transaction(async (trx) => {
    const creditId = newId('wcr');
    const key = c.idempotencyKey ?? `wallet-${c.kind.replace('_', '-')}:${creditId}`;
    const existing = async () => {
      const row = await entryByKey(trx, key);
      if (!row) return undefined;
      const lines = await linesOf(trx, [row.id]);
      return {
        entry: toEntry(row, lines.get(row.id) ?? []),
        creditId: lines.get(row.id)?.[0]?.creditId ?? '',
        created: false,
      };
    };
    const first = await existing();
    if (first) return first;
    const wallet = await lockWallet(trx, (await ensureWallet(trx, c)).id);
    const again = await existing();
    if (again) return again;
    const amount = amountOf(c.amount, 'amount', wallet.currency);
    if (amount.lte(0)) throw new WalletError('invalid_amount', 'amount must be greater than 0');
    if (c.expiresAt && c.expiresAt.getTime() <= now.getTime())
      throw new WalletError('invalid_expiry', 'expires_at must be in the future');
    const credits = await openCredits(trx, wallet.id);
    await expireDue(trx, wallet, credits, now);
    const row = await appendEntry(trx, wallet, credits, {
      kind: c.kind,
      idempotencyKey: key,
      providerReference: c.providerReference,
      reason: c.reason ?? null,
      detail: { ...c.detail, ...(c.expiresAt ? { expires_at: c.expiresAt.toISOString() } : {}) },
      lines: [],
      newCredit: { id: creditId, source: c.source, amount, expiresAt: c.expiresAt },
      movement: { status: 'succeeded', amount },
    });
    const lines = await linesOf(trx, [row.id]);
    return { entry: toEntry(row, lines.get(row.id) ?? []), creditId, created: true };
  });
}

/**
 * Credits a top-up the provider has charged (paid credit, never expires). Keyed by the provider call's
 * idempotency key, so the same charge credits once.
 */
export function topUp(
  db: Knex,
  t: CreditInput & { idempotencyKey: string; providerReference: string; paymentMethodId?: string },
): Promise<Credited> {
  return credit(db, {
    ...t,
    kind: 'top_up',
    source: 'paid',
    expiresAt: null,
    detail: t.paymentMethodId ? { payment_method_id: t.paymentMethodId } : undefined,
  });
}

/** Grants credit that expires at `expiresAt` (a promotion, a goodwill gesture). */
export function grant(db: Knex, g: CreditInput & { expiresAt: Date; reason: string }): Promise<Credited> {
  return credit(db, { ...g, kind: 'grant', source: 'granted' });
}

/**
 * A manual correction. A positive amount is credited as paid credit (it never expires); a negative one takes
 * from available credit in consumption order, at most what is available. Answers the signed amount applied.
 */
export async function adjust(
  db: Knex,
  a: {
    organizationId: string;
    userId: string;
    amount: string;
    reason: string;
    idempotencyKey: string;
    now?: Date;
  },
): Promise<string> {
  const signed = new Dec(a.amount);
  if (signed.gte(0)) {
    const done = await credit(db, { ...a, kind: 'adjustment', source: 'paid', expiresAt: null });
    return done.entry.amount;
  }
  const now = a.now ?? new Date();
  return db.transaction(async (trx) => {
    const wallet = await lockWallet(trx, (await ensureWallet(trx, a)).id);
    const done = await entryByKey(trx, a.idempotencyKey);
    if (done) return canonicalDecimal(done.amount);
    const wanted = amountOf(signed.neg().toFixed(), 'amount', wallet.currency);
    const credits = await openCredits(trx, wallet.id);
    await expireDue(trx, wallet, credits, now);
    const lines = allocate(credits, wanted, now).map((l) => ({
      ...l,
      amount: l.reservedDelta.neg(),
      reservedDelta: ZERO,
    }));
    const taken = total(lines.map((l) => l.amount.neg()));
    await appendEntry(trx, wallet, credits, {
      kind: 'adjustment',
      idempotencyKey: a.idempotencyKey,
      reason: a.reason,
      detail: { requested: signed.toFixed() },
      lines,
      movement: { status: 'succeeded', amount: taken },
    });
    return taken.neg().toFixed();
  });
}

/**
 * Expires granted credit past its expiry in every wallet (what sessions hold of it stays theirs and expires
 * when they give it back). Idempotent: a re-run finds nothing left to expire.
 */
export async function expireGrants(
  db: Knex,
  now: Date = new Date(),
): Promise<{ wallets: number; credits: number }> {
  const due: { wallet_id: string }[] = await db('wallet_credits')
    .where('source', 'granted')
    .where('expires_at', '<=', now)
    .whereRaw('remaining > held')
    .distinct('wallet_id');
  let credits = 0;
  for (const { wallet_id } of due) {
    credits += await db.transaction(async (trx) => {
      const wallet = await lockWallet(trx, wallet_id);
      return expireDue(trx, wallet, await openCredits(trx, wallet.id), now);
    });
  }
  return { wallets: due.length, credits };
}

/** The wallet's figures as of `now`; undefined when the user has no wallet. */
export async function walletBalance(
  db: Knex,
  organizationId: string,
  userId: string,
  now: Date = new Date(),
): Promise<WalletBalance | undefined> {
  const wallet = await findWallet(db, organizationId, userId);
  if (!wallet) return undefined;
  const rows: CreditRow[] = await db('wallet_credits as c')
    .join('wallet_entries as e', 'e.id', 'c.entry_id')
    .where('c.wallet_id', wallet.id)
    .where('c.remaining', '>', 0)
    .orderByRaw(CONSUMPTION_ORDER_C)
    .select('c.*', 'e.reason');
  // Granted credit past its expiry that nobody holds is gone, whether or not the expiry job has run yet.
  const counted = (r: CreditRow) =>
    isDue({ source: r.source, expiresAt: r.expires_at }, now) ? new Dec(r.held) : new Dec(r.remaining);
  const sum = (list: CreditRow[], f: (r: CreditRow) => Dec) => total(list.map(f));
  const paid = sum(
    rows.filter((r) => r.source === 'paid'),
    counted,
  );
  const granted = sum(
    rows.filter((r) => r.source === 'granted'),
    counted,
  );
  const reserved = sum(rows, (r) => new Dec(r.held));
  const f = (d: Dec) => formatMoney(d, wallet.currency);
  return {
    wallet,
    balance: f(paid.plus(granted)),
    reserved: f(reserved),
    available: f(paid.plus(granted).minus(reserved)),
    paid: f(paid),
    granted: f(granted),
    credits: rows
      .filter((r) => counted(r).gt(0))
      .map((r) => ({
        id: r.id,
        source: r.source,
        amount: f(new Dec(r.amount)),
        remaining: f(counted(r)),
        held: f(new Dec(r.held)),
        expiresAt: r.expires_at,
        reason: r.reason ?? null,
        createdAt: r.created_at,
      })),
  };
}

/** What the user's wallet can still reserve now ("0" without a wallet). */
export async function availableFor(
  db: Knex,
  userId: string,
  now: Date = new Date(),
): Promise<{ available: string; currency: string | null }> {
  const wallet = await db<WalletRow>('wallets').where({ user_id: userId }).first();
  if (!wallet) return { available: '0', currency: null };
  const credits = await openCredits(db, wallet.id);
  return { available: available(credits, now).toFixed(), currency: wallet.currency };
}

/** What a session holds of the wallet now, and its settlement if it was settled. */
export async function sessionReservation(
  db: Knex,
  sessionId: string,
): Promise<{ walletId: string; reserved: string; settlement: Settlement | null } | undefined> {
  const reservation = await reservationOf(db, sessionId);
  if (!reservation) return undefined;
  const settled = await entryByKey(db, settleKey(sessionId));
  return {
    walletId: reservation.wallet_id,
    reserved: total((await sessionHolds(db, sessionId)).values()).toFixed(),
    settlement: settled ? (settled.detail as unknown as Settlement) : null,
  };
}

async function linesOf(db: Knex, entryIds: string[]): Promise<Map<string, WalletEntryLine[]>> {
  const rows = await db('wallet_entry_credits as l')
    .join('wallet_credits as c', 'c.id', 'l.credit_id')
    .whereIn('l.entry_id', entryIds)
    .orderBy(['l.entry_id', 'l.credit_id'])
    .select('l.entry_id', 'l.credit_id', 'c.source', 'l.amount', 'l.reserved_delta');
  const byEntry = new Map<string, WalletEntryLine[]>();
  for (const r of rows) {
    const list = byEntry.get(r.entry_id) ?? [];
    list.push({
      creditId: r.credit_id,
      source: r.source,
      amount: canonicalDecimal(r.amount),
      reservedDelta: canonicalDecimal(r.reserved_delta),
    });
    byEntry.set(r.entry_id, list);
  }
  return byEntry;
}

const toEntry = (r: EntryRow, lines: WalletEntryLine[]): WalletEntry => ({
  id: r.id,
  walletId: r.wallet_id,
  kind: r.kind,
  amount: canonicalDecimal(r.amount),
  reservedDelta: canonicalDecimal(r.reserved_delta),
  sessionId: r.session_id,
  idempotencyKey: r.idempotency_key,
  providerReference: r.provider_reference,
  reason: r.reason,
  detail: r.detail,
  createdAt: r.created_at,
  lines,
});

/** The wallet's ledger in the order it was written, oldest first; the cursor is an entry id. */
export async function walletHistory(
  db: Knex,
  walletId: string,
  page: PageRequest,
): Promise<Page<WalletEntry>> {
  const query = db<EntryRow>('wallet_entries').where({ wallet_id: walletId });
  if (page.startingAfter !== undefined) {
    const cursor = await db<EntryRow>('wallet_entries')
      .where({ wallet_id: walletId, id: page.startingAfter })
      .first('seq');
    if (!cursor) throw new WalletError('cursor_unknown', `no entry ${page.startingAfter} in this wallet`);
    query.where('seq', '>', cursor.seq);
  }
  const rows: EntryRow[] = await query.orderBy('seq').limit(page.limit + 1);
  const data = rows.slice(0, page.limit);
  const lines = await linesOf(
    db,
    data.map((r) => r.id),
  );
  return { data: data.map((r) => toEntry(r, lines.get(r.id) ?? [])), hasMore: rows.length > page.limit };
}
