import type { Knex } from 'knex';
import { createWalletActivities } from '../../activities/wallet';
import { createDb } from '../../db/knex';
import { newId } from '../../db/ids';
import {
  adjust,
  expireGrants,
  extendReservation,
  grant,
  release,
  reserve,
  settle,
  topUp,
  walletBalance,
  walletHistory,
} from '../../db/repositories/wallets';
import { Dec } from '../../pricing/money';
import { createTestDatabase, TestDatabase } from '../support/database';
import { insertBillingFixture } from '../support/fixtures';

// The prepaid wallet on real PostgreSQL: paid and granted credit, the order it is consumed in, reservations
// settled or released, expiry, idempotency, and sessions racing on one wallet on separate connections.

let tdb: TestDatabase;
let organizationId: string;
let db: Knex;
const T0 = new Date('2030-01-01T12:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * 3600_000);

beforeAll(async () => {
  tdb = await createTestDatabase('wallets');
  db = tdb.db;
  const fx = await insertBillingFixture(db, { identity: 'CP-WALLETS', idTag: 'TAG-WALLETS' });
  organizationId = fx.organizationId;
});
afterAll(() => tdb.drop());

/** A fresh driver for each test, so wallets do not share state. */
async function driver(): Promise<string> {
  const id = newId('usr');
  await db('users').insert({
    id,
    organization_id: organizationId,
    email: `${id}@example.com`,
    user_type: 'public',
  });
  return id;
}

let keys = 0;
const paid = (userId: string, amount: string, now = T0) =>
  topUp(db, {
    organizationId,
    userId,
    amount,
    idempotencyKey: `test-top-up:${++keys}`,
    providerReference: `pi_test_${keys}`,
    now,
  });
const granted = (userId: string, amount: string, expiresAt: Date, now = T0) =>
  grant(db, { organizationId, userId, amount, expiresAt, reason: 'promotion', now });
const hold = (userId: string, sessionId: string, amount: string, now = T0) =>
  reserve(db, { organizationId, userId, sessionId, amount, now });
const figures = async (userId: string, now = T0) => {
  const b = (await walletBalance(db, organizationId, userId, now))!;
  return {
    balance: b.balance,
    reserved: b.reserved,
    available: b.available,
    paid: b.paid,
    granted: b.granted,
  };
};

/** The ledger and the credits agree: per credit and in total. */
async function expectLedgerConsistent(userId: string) {
  const wallet = await db('wallets').where({ user_id: userId }).first('id');
  const credits = await db('wallet_credits').where({ wallet_id: wallet.id });
  for (const c of credits) {
    const [sums] = await db('wallet_entry_credits')
      .where({ credit_id: c.id })
      .select(
        db.raw('coalesce(sum(amount), 0) as amount'),
        db.raw('coalesce(sum(reserved_delta), 0) as held'),
      );
    expect({ credit: c.id, remaining: Number(c.remaining), held: Number(c.held) }).toEqual({
      credit: c.id,
      remaining: Number(sums.amount),
      held: Number(sums.held),
    });
  }
  const [entries] = await db('wallet_entries')
    .where({ wallet_id: wallet.id })
    .select(db.raw('coalesce(sum(amount), 0) as amount'), db.raw('coalesce(sum(reserved_delta), 0) as held'));
  const remaining = credits.reduce((s, c) => s.plus(c.remaining), new Dec(0));
  const held = credits.reduce((s, c) => s.plus(c.held), new Dec(0));
  expect(new Dec(entries.amount).toFixed()).toBe(remaining.toFixed());
  expect(new Dec(entries.held).toFixed()).toBe(held.toFixed());
}

const movements = (userId: string) =>
  db('payment_movements')
    .where({ user_id: userId })
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .select('kind', 'status', 'amount', 'session_id', 'idempotency_key');

describe('credit', () => {
  it('adds paid credit (never expires) and granted credit (expires), with a movement each', async () => {
    const user = await driver();
    await paid(user, '20.00');
    await granted(user, '5.00', at(24));
    expect(await figures(user)).toEqual({
      balance: '25.00',
      reserved: '0.00',
      available: '25.00',
      paid: '20.00',
      granted: '5.00',
    });
    expect(
      (await movements(user)).map((m) => `${m.kind}:${m.status}:${Number(m.amount).toFixed(2)}`),
    ).toEqual(['wallet_top_up:succeeded:20.00', 'wallet_grant:succeeded:5.00']);
    // Far in the future the paid credit is still there; the grant is not.
    expect(await figures(user, at(24 * 365 * 10))).toMatchObject({ balance: '20.00', granted: '0.00' });
    await expectLedgerConsistent(user);
  });

  it('credits a top-up once per key', async () => {
    const user = await driver();
    const input = {
      organizationId,
      userId: user,
      amount: '10.00',
      idempotencyKey: 'tu-once',
      providerReference: 'pi_1',
    };
    const first = await topUp(db, input);
    const again = await topUp(db, input);
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, entry: { id: first.entry.id } });
    expect((await figures(user)).balance).toBe('10.00');
  });

  it('refuses an amount with more decimals than the currency has, an expiry in the past, another org', async () => {
    const user = await driver();
    await expect(paid(user, '1.001')).rejects.toMatchObject({ code: 'invalid_amount' });
    await expect(granted(user, '1.00', at(-1))).rejects.toMatchObject({ code: 'invalid_expiry' });
    await expect(
      topUp(db, {
        organizationId: 'org_OTHER',
        userId: user,
        amount: '1',
        idempotencyKey: 'x',
        providerReference: 'pi',
      }),
    ).rejects.toMatchObject({ code: 'user_missing' });
    expect(await db('wallet_entries').where({ idempotency_key: 'x' }).first()).toBeUndefined();
  });

  it('keeps the ledger append-only', async () => {
    const user = await driver();
    const { entry } = await paid(user, '3.00');
    await expect(db('wallet_entries').where({ id: entry.id }).update({ amount: 300 })).rejects.toThrow(
      /append-only/,
    );
    await expect(db('wallet_entry_credits').where({ entry_id: entry.id }).delete()).rejects.toThrow(
      /append-only/,
    );
  });
});

describe('reserve, settle, release', () => {
  it('reserves at most what is available, settles the cost and releases the rest', async () => {
    const user = await driver();
    await paid(user, '15.00');
    expect(await hold(user, 'ses_w1', '20.00')).toBe('15');
    expect(await figures(user)).toMatchObject({ balance: '15.00', reserved: '15.00', available: '0.00' });
    expect(await hold(user, 'ses_w2', '5.00')).toBe('0');
    expect(await settle(db, { sessionId: 'ses_w1', cost: '6.82', now: T0 })).toEqual({
      charged: '6.82',
      shortfall: '0.00',
      released: '8.18',
    });
    expect(await figures(user)).toMatchObject({ balance: '8.18', reserved: '0.00', available: '8.18' });
    const timeline = (await movements(user)).filter((m) => m.session_id === 'ses_w1');
    expect(timeline.map((m) => [m.kind, m.status, Number(m.amount).toFixed(2), m.idempotency_key])).toEqual([
      ['wallet_reservation', 'partial', '15.00', 'wallet:ses_w1:reserve'],
      ['wallet_settlement', 'succeeded', '6.82', 'wallet:ses_w1:settle'],
    ]);
    await expectLedgerConsistent(user);
  });

  it('answers the first reservation and the first settlement to a retry', async () => {
    const user = await driver();
    await paid(user, '30.00');
    expect(await hold(user, 'ses_r1', '10.00')).toBe('10');
    expect(await hold(user, 'ses_r1', '25.00')).toBe('10');
    const first = await settle(db, { sessionId: 'ses_r1', cost: '4.00', now: T0 });
    const retry = await settle(db, { sessionId: 'ses_r1', cost: '9.00', now: T0 });
    expect(retry).toEqual(first);
    expect(await figures(user)).toMatchObject({ balance: '26.00', reserved: '0.00' });
    expect(await db('wallet_entries').where({ session_id: 'ses_r1', kind: 'settlement' })).toHaveLength(1);
    expect(await db('payment_movements').where({ session_id: 'ses_r1' })).toHaveLength(2);
  });

  it('settles a cost above the reservation from what is available, and reports the shortfall', async () => {
    const user = await driver();
    await paid(user, '12.00');
    await hold(user, 'ses_o1', '5.00');
    await hold(user, 'ses_o2', '4.00');
    // ses_o1 may take its 5 and the 3 nobody holds, not ses_o2's 4.
    expect(await settle(db, { sessionId: 'ses_o1', cost: '10.00', now: T0 })).toEqual({
      charged: '8.00',
      shortfall: '2.00',
      released: '0.00',
    });
    expect(await figures(user)).toMatchObject({ balance: '4.00', reserved: '4.00', available: '0.00' });
    expect(await settle(db, { sessionId: 'ses_o2', cost: '1.50', now: T0 })).toMatchObject({
      charged: '1.50',
    });
    expect(await figures(user)).toMatchObject({ balance: '2.50', reserved: '0.00' });
    await expectLedgerConsistent(user);
  });

  it('extends a reservation once per step, as far as the wallet has it', async () => {
    const user = await driver();
    await paid(user, '12.00');
    await hold(user, 'ses_e1', '5.00');
    expect(await extendReservation(db, { sessionId: 'ses_e1', amount: '5.00', step: 1, now: T0 })).toBe('10');
    expect(await extendReservation(db, { sessionId: 'ses_e1', amount: '5.00', step: 1, now: T0 })).toBe('10');
    expect(await extendReservation(db, { sessionId: 'ses_e1', amount: '5.00', step: 2, now: T0 })).toBe('12');
    expect(await extendReservation(db, { sessionId: 'ses_e1', amount: '5.00', step: 3, now: T0 })).toBe('12');
    await settle(db, { sessionId: 'ses_e1', cost: '11.00', now: T0 });
    expect(await extendReservation(db, { sessionId: 'ses_e1', amount: '5.00', step: 4, now: T0 })).toBe('0');
    await expect(
      extendReservation(db, { sessionId: 'ses_none', amount: '1', step: 1 }),
    ).rejects.toMatchObject({
      code: 'reservation_missing',
    });
    expect(await figures(user)).toMatchObject({ balance: '1.00', reserved: '0.00' });
  });

  it('releases a session that never started, once', async () => {
    const user = await driver();
    await paid(user, '8.00');
    await hold(user, 'ses_x1', '6.00');
    expect(await release(db, 'ses_x1', T0)).toBe('6');
    expect(await release(db, 'ses_x1', T0)).toBe('0');
    expect(await release(db, 'ses_never_reserved', T0)).toBe('0');
    expect(await figures(user)).toMatchObject({ balance: '8.00', reserved: '0.00', available: '8.00' });
    expect((await movements(user)).filter((m) => m.session_id === 'ses_x1').map((m) => m.kind)).toEqual([
      'wallet_reservation',
      'wallet_release',
    ]);
    // Settled after all (a price came after the release): charged from what is available.
    expect(await settle(db, { sessionId: 'ses_x1', cost: '9.00', now: T0 })).toEqual({
      charged: '8.00',
      shortfall: '1.00',
      released: '0.00',
    });
    expect(await figures(user)).toMatchObject({ balance: '0.00', reserved: '0.00' });
    await expectLedgerConsistent(user);
  });
});

describe('consumption order and expiry', () => {
  it('uses the soonest-expiring granted credit first, then paid credit', async () => {
    const user = await driver();
    const { creditId: paidId } = await paid(user, '10.00');
    const { creditId: later } = await granted(user, '5.00', at(48));
    const { creditId: sooner } = await granted(user, '5.00', at(24));
    await hold(user, 'ses_c1', '7.00');
    await settle(db, { sessionId: 'ses_c1', cost: '7.00', now: T0 });
    const lines = async (sessionId: string) =>
      Object.fromEntries(
        (
          await db('wallet_entry_credits as l')
            .join('wallet_entries as e', 'e.id', 'l.entry_id')
            .where({ 'e.session_id': sessionId, 'e.kind': 'settlement' })
            .select('l.credit_id', 'l.amount')
        ).map((r) => [r.credit_id, Number(r.amount)]),
      );
    expect(await lines('ses_c1')).toEqual({ [sooner]: -5, [later]: -2 });
    await hold(user, 'ses_c2', '10.00');
    await settle(db, { sessionId: 'ses_c2', cost: '10.00', now: T0 });
    expect(await lines('ses_c2')).toEqual({ [later]: -3, [paidId]: -7 });
    expect(await figures(user)).toMatchObject({ balance: '3.00', paid: '3.00', granted: '0.00' });
    await expectLedgerConsistent(user);
  });

  it('expires granted credit nobody holds, once, and never paid credit', async () => {
    const user = await driver();
    await paid(user, '4.00');
    await granted(user, '6.00', at(1));
    // Past the expiry the balance leaves the grant out, before the job has run.
    expect(await figures(user, at(2))).toMatchObject({ balance: '4.00', granted: '0.00' });
    const run = await expireGrants(db, at(2));
    expect(run.credits).toBeGreaterThanOrEqual(1);
    expect((await expireGrants(db, at(2))).credits).toBe(0);
    expect(await figures(user, at(2))).toMatchObject({ balance: '4.00', paid: '4.00' });
    expect((await movements(user)).map((m) => `${m.kind}:${Number(m.amount).toFixed(2)}`)).toEqual([
      'wallet_top_up:4.00',
      'wallet_grant:6.00',
      'wallet_expiry:6.00',
    ]);
    // A reservation after the expiry gets the paid credit only.
    expect(await hold(user, 'ses_late', '10.00', at(2))).toBe('4');
    await expectLedgerConsistent(user);
  });

  it('lets a session use the granted credit it reserved before the expiry, and expires what it gives back', async () => {
    const user = await driver();
    await granted(user, '10.00', at(1));
    expect(await hold(user, 'ses_g1', '10.00')).toBe('10');
    await expireGrants(db, at(2));
    expect(await figures(user, at(2))).toMatchObject({
      balance: '10.00',
      reserved: '10.00',
      available: '0.00',
    });
    expect(await settle(db, { sessionId: 'ses_g1', cost: '4.00', now: at(2) })).toEqual({
      charged: '4.00',
      shortfall: '0.00',
      released: '6.00',
    });
    expect(await figures(user, at(2))).toMatchObject({ balance: '0.00', reserved: '0.00' });
    const kinds = await db('wallet_entries')
      .join('wallets', 'wallets.id', 'wallet_entries.wallet_id')
      .where('wallets.user_id', user)
      .orderBy('seq')
      .pluck('kind');
    expect(kinds).toEqual(['grant', 'reservation', 'settlement', 'release', 'expiry']);
    await expectLedgerConsistent(user);
  });

  it('takes a negative adjustment from available credit, at most what is available', async () => {
    const user = await driver();
    await paid(user, '5.00');
    await hold(user, 'ses_adj', '2.00');
    expect(
      await adjust(db, {
        organizationId,
        userId: user,
        amount: '-4.00',
        reason: 'correction',
        idempotencyKey: 'adj-1',
      }),
    ).toBe('-3');
    expect(
      await adjust(db, {
        organizationId,
        userId: user,
        amount: '1.50',
        reason: 'goodwill',
        idempotencyKey: 'adj-2',
      }),
    ).toBe('1.5');
    expect(await figures(user)).toMatchObject({ balance: '3.50', reserved: '2.00', available: '1.50' });
    await expectLedgerConsistent(user);
  });
});

describe('history', () => {
  it('lists the ledger in the order it was written, page by page', async () => {
    const user = await driver();
    await paid(user, '10.00');
    await granted(user, '2.00', at(24));
    await hold(user, 'ses_h1', '5.00');
    await settle(db, { sessionId: 'ses_h1', cost: '3.00', now: T0 });
    await hold(user, 'ses_h2', '1.00');
    await release(db, 'ses_h2', T0);
    const wallet = await db('wallets').where({ user_id: user }).first('id');
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await walletHistory(db, wallet.id, { limit: 2, startingAfter: cursor });
      seen.push(...page.data.map((e) => `${e.kind}:${e.amount}:${e.reservedDelta}`));
      if (!page.hasMore) break;
      cursor = page.data.at(-1)!.id;
    }
    expect(seen).toEqual([
      'top_up:10:0',
      'grant:2:0',
      'reservation:0:5',
      'settlement:-3:-3',
      'release:0:-2',
      'reservation:0:1',
      'release:0:-1',
    ]);
    await expect(walletHistory(db, wallet.id, { limit: 2, startingAfter: 'wle_nope' })).rejects.toMatchObject(
      {
        code: 'cursor_unknown',
      },
    );
  });
});

describe('sessions racing on one wallet', () => {
  let racing: Knex;
  beforeAll(() => {
    // One connection per session: the 20 transactions really run at the same time.
    racing = createDb(tdb.url, { min: 0, max: 25 });
  });
  afterAll(() => racing.destroy());

  it('never reserves more than the balance', async () => {
    const user = await driver();
    await paid(user, '100.00');
    const sessions = Array.from({ length: 20 }, (_, i) => `ses_race_a${i}`);
    const reserved = await Promise.all(
      sessions.map((sessionId) =>
        reserve(racing, { organizationId, userId: user, sessionId, amount: '7.00', now: T0 }),
      ),
    );
    const sum = reserved.reduce((s, r) => s.plus(r), new Dec(0));
    expect(sum.toFixed(2)).toBe('100.00');
    expect(reserved.filter((r) => r === '7')).toHaveLength(14);
    expect(await figures(user)).toMatchObject({ balance: '100.00', reserved: '100.00', available: '0.00' });
    await expectLedgerConsistent(user);
  });

  it('never spends more than the balance, however the settlements interleave', async () => {
    const user = await driver();
    await paid(user, '60.00');
    await granted(user, '40.00', at(24));
    const sessions = Array.from({ length: 20 }, (_, i) => `ses_race_b${i}`);
    // Each holds 3.00 (60 of 100), then costs 9.00: together they ask 180.00 of a 100.00 wallet.
    await Promise.all(
      sessions.map((sessionId) =>
        reserve(racing, { organizationId, userId: user, sessionId, amount: '3.00', now: T0 }),
      ),
    );
    const settled = await Promise.all(
      sessions.map((sessionId) => settle(racing, { sessionId, cost: '9.00', now: T0 })),
    );
    const charged = settled.reduce((s, r) => s.plus(r.charged), new Dec(0));
    const shortfall = settled.reduce((s, r) => s.plus(r.shortfall), new Dec(0));
    expect(charged.toFixed(2)).toBe('100.00');
    expect(shortfall.toFixed(2)).toBe('80.00');
    // Every session got at least what it had reserved.
    expect(settled.every((r) => new Dec(r.charged).gte(3))).toBe(true);
    expect(await figures(user)).toMatchObject({ balance: '0.00', reserved: '0.00', available: '0.00' });
    const [{ total }] = await db('payment_movements')
      .whereIn('session_id', sessions)
      .where({ kind: 'wallet_settlement' })
      .sum<{ total: string }[]>('amount as total');
    expect(Number(total)).toBe(100);
    await expectLedgerConsistent(user);
  });

  it('reserves and settles at the same time without going below zero', async () => {
    const user = await driver();
    await paid(user, '50.00');
    const sessions = Array.from({ length: 20 }, (_, i) => `ses_race_c${i}`);
    const results = await Promise.all(
      sessions.map(async (sessionId) => {
        await reserve(racing, { organizationId, userId: user, sessionId, amount: '4.00', now: T0 });
        return settle(racing, { sessionId, cost: '6.00', now: T0 });
      }),
    );
    const charged = results.reduce((s, r) => s.plus(r.charged), new Dec(0));
    expect(charged.toFixed(2)).toBe('50.00');
    expect(await figures(user)).toMatchObject({ balance: '0.00', reserved: '0.00' });
    await expectLedgerConsistent(user);
  });
});

describe('wallet activities', () => {
  const activities = () => createWalletActivities({ db });

  it('reserve, extend, ask what is available, settle', async () => {
    const user = await driver();
    await paid(user, '20.00');
    const a = activities();
    const base = { sessionId: 'ses_act1', organizationId, userId: user, currency: 'EUR' };
    expect(await a.reserveWallet({ ...base, amount: '8.00' })).toEqual({ reserved: '8', available: '12' });
    expect(await a.extendWalletReservation({ sessionId: 'ses_act1', amount: '8.00', step: 1 })).toEqual({
      reserved: '16',
      available: '4',
    });
    expect(await a.walletAvailable({ userId: user })).toEqual({ available: '4', currency: 'EUR' });
    expect(await a.settleWallet({ sessionId: 'ses_act1', cost: '17.25', currency: 'EUR' })).toEqual({
      charged: '17.25',
      shortfall: '0.00',
      released: '0.00',
    });
    expect(await a.walletAvailable({ userId: user })).toEqual({ available: '2.75', currency: 'EUR' });
    expect(await a.walletAvailable({ userId: 'usr_without_wallet' })).toEqual({
      available: '0',
      currency: null,
    });
    expect(await a.releaseWallet({ sessionId: 'ses_act1' })).toEqual({ released: '0' });
  });

  it('fails for good on another currency or a session without reservation', async () => {
    const user = await driver();
    await paid(user, '5.00');
    const a = activities();
    await expect(
      a.reserveWallet({ sessionId: 'ses_act2', organizationId, userId: user, currency: 'USD', amount: '1' }),
    ).rejects.toMatchObject({ type: 'WalletError', nonRetryable: true });
    await expect(a.settleWallet({ sessionId: 'ses_act_missing', cost: '1.00' })).rejects.toMatchObject({
      type: 'WalletError',
      nonRetryable: true,
    });
    await a.reserveWallet({
      sessionId: 'ses_act3',
      organizationId,
      userId: user,
      currency: 'EUR',
      amount: '1',
    });
    await expect(
      a.settleWallet({ sessionId: 'ses_act3', cost: '1.00', currency: 'USD' }),
    ).rejects.toMatchObject({
      type: 'WalletError',
      nonRetryable: true,
    });
  });
});
