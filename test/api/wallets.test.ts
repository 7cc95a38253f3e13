import { createLogger } from '../../config/logger';
import { ensureWallet } from '../../db/repositories/wallets';
import { type FakeStripe, startFakeStripe } from '../../payments/fake-stripe';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';
import { expectError, type Harness, startHarness, tableCounts, type Tenant } from './helpers';

// The wallet API on real PostgreSQL, top-ups charged through the payment port against the stateful Stripe
// fake (the real SDK): balance and history for every member, top-ups, grants and the payment mode for owners
// and admins; bad input names its field and writes nothing.

let h: Harness;
let fake: FakeStripe;
let acme: Tenant;
let viewer: Tenant['call'];
let users = 0;

beforeAll(async () => {
  const quiet = createLogger({}, 'error');
  fake = await startFakeStripe({ logger: quiet });
  const payments = createStripeProvider(
    createStripeClient({ secretKey: 'sk_test_wallets_123456789', apiBase: fake.url }),
    { logger: quiet },
  );
  h = await startHarness('wallets', { payments });
  acme = await h.tenant('Acme');
  const member = await acme.call('POST', '/members', {
    body: { email: 'viewer@acme.example', role: 'viewer' },
  });
  const key = await acme.call('POST', `/members/${member.body.id}/api-keys`, { body: { name: 'cli' } });
  viewer = (method, path, options) => h.call(method, path, { ...options, key: key.body.secret });
});
afterAll(async () => {
  await h.close();
  await fake.close();
});

async function driver(card: { payment_method_id?: string; payment_customer_id?: string } = {}) {
  const res = await acme.call('POST', '/users', {
    body: {
      email: `driver${++users}@example.com`,
      name: `Driver ${users}`,
      user_type: 'public',
      payment_customer_id: 'cus_wallet_driver',
      payment_method_id: 'pm_card_visa',
      ...card,
    },
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const topUp = (userId: string, body: unknown, headers?: Record<string, string>) =>
  acme.call('POST', `/users/${userId}/wallet/top-ups`, { body, headers });
const wallet = (userId: string) => acme.call('GET', `/users/${userId}/wallet`);
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

describe('top-ups', () => {
  it('charges the saved card off-session and credits paid credit', async () => {
    const user = await driver();
    const res = await topUp(user, { amount: '25.00' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'wallet_entry',
      kind: 'top_up',
      amount: '25.00',
      currency: 'EUR',
      provider_reference: expect.stringMatching(/^pi_/),
      wallet: { balance: '25.00', available: '25.00', paid_balance: '25.00', granted_balance: '0.00' },
    });
    const intent = fake.paymentIntent(res.body.provider_reference)!;
    expect(intent).toMatchObject({
      amount: 2500,
      currency: 'eur',
      status: 'succeeded',
      customer: 'cus_wallet_driver',
    });
    const movement = await h.db('payment_movements').where({ user_id: user }).first();
    expect(movement).toMatchObject({
      kind: 'wallet_top_up',
      status: 'succeeded',
      amount_minor: 2500,
      provider_reference: res.body.provider_reference,
    });
    expect(movement.idempotency_key).toMatch(new RegExp(`^wallet-top-up:${user}:`));
  });

  it('charges and credits once for one Idempotency-Key, and refuses the key for another amount', async () => {
    const user = await driver();
    const headers = { 'Idempotency-Key': 'topup-once-1' };
    const first = await topUp(user, { amount: '10.00' }, headers);
    const again = await topUp(user, { amount: '10.00' }, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.wallet.balance).toBe('10.00');
    expect(fake.listPaymentIntents().filter((p) => p.metadata?.user_id === user)).toHaveLength(1);
    expectError(
      await topUp(user, { amount: '11.00' }, headers),
      409,
      'Idempotency-Key',
      'idempotency_key_reused',
    );
    expect((await wallet(user)).body.balance).toBe('10.00');
  });

  it('answers a declined card with 402 card_error and credits nothing', async () => {
    const user = await driver();
    await topUp(user, { amount: '5.00' });
    const res = await topUp(user, { amount: '20.00', payment_method_id: 'pm_card_chargeDeclinedOffSession' });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({
      type: 'card_error',
      code: 'declined',
      param: 'payment_method_id',
    });
    expect((await wallet(user)).body).toMatchObject({ balance: '5.00', paid_balance: '5.00' });
    expect(
      await h
        .db('wallet_entries')
        .join('wallets', 'wallets.id', 'wallet_entries.wallet_id')
        .where('wallets.user_id', user),
    ).toHaveLength(1);
    const declined = await h
      .db('payment_movements')
      .where({ user_id: user, kind: 'wallet_top_up', status: 'declined' });
    expect(declined).toHaveLength(1);
  });

  it('needs a customer to charge and a card to charge', async () => {
    const noCustomer = await driver({ payment_customer_id: undefined });
    await h.db('users').where({ id: noCustomer }).update({ payment_customer_id: null });
    expectError(await topUp(noCustomer, { amount: '5.00' }), 409, null, 'no_payment_customer');
    const noCard = await driver();
    await h.db('users').where({ id: noCard }).update({ payment_method_id: null });
    expectError(await topUp(noCard, { amount: '5.00' }), 400, 'payment_method_id', 'parameter_missing');
  });

  it('names the bad field and writes nothing', async () => {
    const user = await driver();
    const before = await tableCounts(h.db);
    for (const [body, param] of [
      [{}, 'amount'],
      [{ amount: '-1' }, 'amount'],
      [{ amount: '0' }, 'amount'],
      [{ amount: '1.001' }, 'amount'],
      [{ amount: 'ten' }, 'amount'],
      [{ amount: '5', payment_method_id: 'card' }, 'payment_method_id'],
      [{ amount: '5', currency: 'USD' }, 'currency'],
    ] as const) {
      expectError(await topUp(user, body), 400, param);
    }
    expectError(
      await topUp(user, { amount: '5' }, { 'Idempotency-Key': 'x'.repeat(300) }),
      400,
      'Idempotency-Key',
    );
    expectError(await topUp('usr_missing', { amount: '5' }), 404, null);
    expect(await tableCounts(h.db)).toEqual(before);
  });
});

describe('grants', () => {
  it('grants credit that expires, shown apart from paid credit', async () => {
    const user = await driver();
    await topUp(user, { amount: '10.00' });
    const expiresAt = inAnHour();
    const res = await acme.call('POST', `/users/${user}/wallet/grants`, {
      body: { amount: '3.50', expires_at: expiresAt, reason: 'Welcome offer' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'grant', amount: '3.50', reason: 'Welcome offer' });
    const read = await viewer('GET', `/users/${user}/wallet`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      balance: '13.50',
      paid_balance: '10.00',
      granted_balance: '3.50',
      next_expiry: { amount: '3.50', expires_at: new Date(expiresAt).toISOString() },
    });
    // Consumed first: granted credit leads the list.
    expect(read.body.credits.map((c: { source: string }) => c.source)).toEqual(['granted', 'paid']);
    const audit = await h.db('audit_log').where({ organization_id: acme.org.id, action: 'wallet.granted' });
    expect(audit).toHaveLength(1);
  });

  it('names the bad field and writes nothing', async () => {
    const user = await driver();
    const before = await tableCounts(h.db);
    const valid = { amount: '5.00', expires_at: inAnHour(), reason: 'Promo' };
    for (const [body, param] of [
      [{ ...valid, amount: undefined }, 'amount'],
      [{ ...valid, amount: '0.001' }, 'amount'],
      [{ ...valid, expires_at: undefined }, 'expires_at'],
      [{ ...valid, expires_at: 'tomorrow' }, 'expires_at'],
      [{ ...valid, expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
      [{ ...valid, reason: undefined }, 'reason'],
      [{ ...valid, reason: ' ' }, 'reason'],
      [{ ...valid, extra: 1 }, 'extra'],
    ] as const) {
      expectError(await acme.call('POST', `/users/${user}/wallet/grants`, { body }), 400, param);
    }
    expect(await tableCounts(h.db)).toEqual(before);
  });
});

describe('history', () => {
  it('pages through the entries oldest first', async () => {
    const user = await driver();
    for (const amount of ['1.00', '2.00', '3.00']) await topUp(user, { amount });
    await acme.call('POST', `/users/${user}/wallet/grants`, {
      body: { amount: '4.00', expires_at: inAnHour(), reason: 'Promo' },
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&starting_after=${cursor}` : '';
      const page = await viewer('GET', `/users/${user}/wallet/entries?limit=3${query}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((e: { kind: string; amount: string }) => `${e.kind}:${e.amount}`));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['top_up:1.00', 'top_up:2.00', 'top_up:3.00', 'grant:4.00']);
    expectError(
      await acme.call('GET', `/users/${user}/wallet/entries?starting_after=wle_nope`),
      400,
      'starting_after',
    );
    expectError(await acme.call('GET', `/users/${user}/wallet/entries?limit=0`), 400, 'limit');
  });

  it('answers 404 for a user without a wallet, and an empty history', async () => {
    const user = await driver();
    expectError(await wallet(user), 404, null, 'resource_missing');
    expect((await acme.call('GET', `/users/${user}/wallet/entries`)).body).toMatchObject({
      data: [],
      has_more: false,
    });
    expectError(await acme.call('GET', '/users/usr_missing/wallet'), 404, null);
  });
});

describe('payment mode', () => {
  it('makes a user pay by wallet, opening an empty wallet in the organization currency', async () => {
    const user = await driver();
    expect((await acme.call('GET', `/users/${user}/payment-mode`)).body).toEqual({
      object: 'payment_mode',
      user_id: user,
      mode: null,
      effective: 'card',
    });
    const res = await acme.call('PUT', `/users/${user}/payment-mode`, { body: { mode: 'wallet' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ mode: 'wallet', effective: 'wallet' });
    expect((await wallet(user)).body).toMatchObject({
      currency: 'EUR',
      balance: '0.00',
      payment_mode: 'wallet',
    });
    expect((await h.db('users').where({ id: user }).first()).payment_mode).toBe('wallet');
    const cleared = await acme.call('PUT', `/users/${user}/payment-mode`, { body: { mode: null } });
    expect(cleared.body).toMatchObject({ mode: null, effective: 'card' });
  });

  it('refuses a wallet in another currency, a card mode without a card, and bad input, writing nothing', async () => {
    const dollars = await driver();
    await ensureWallet(h.db, { organizationId: acme.org.id, userId: dollars, currency: 'USD' });
    const noCard = await driver();
    await h.db('users').where({ id: noCard }).update({ payment_method_id: null });
    const before = await tableCounts(h.db);
    const put = (user: string, body: unknown) => acme.call('PUT', `/users/${user}/payment-mode`, { body });
    expectError(await put(dollars, { mode: 'wallet' }), 400, 'mode');
    expectError(await put(noCard, { mode: 'card' }), 400, 'mode');
    expectError(await put(noCard, { mode: 'cash' }), 400, 'mode');
    expectError(await put(noCard, {}), 400, 'mode');
    expectError(await put(noCard, { mode: 'invoice', x: 1 }), 400, 'x');
    expectError(await put('usr_missing', { mode: 'invoice' }), 404, null);
    expect(await tableCounts(h.db)).toEqual(before);
    expect((await put(noCard, { mode: 'invoice' })).body).toMatchObject({
      mode: 'invoice',
      effective: 'invoice',
    });
  });
});

describe('roles', () => {
  it('lets a viewer read a wallet but not top it up, grant or change the payment mode', async () => {
    const user = await driver();
    await topUp(user, { amount: '2.00' });
    expect((await viewer('GET', `/users/${user}/wallet`)).status).toBe(200);
    expect((await viewer('GET', `/users/${user}/payment-mode`)).status).toBe(200);
    const before = await tableCounts(h.db);
    for (const [method, path, body] of [
      ['POST', `/users/${user}/wallet/top-ups`, { amount: '5.00' }],
      ['POST', `/users/${user}/wallet/grants`, { amount: '5.00', expires_at: inAnHour(), reason: 'x' }],
      ['PUT', `/users/${user}/payment-mode`, { mode: 'wallet' }],
    ] as const) {
      expectError(await viewer(method, path, { body }), 403, null, 'role_not_allowed');
    }
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it("answers another organization's user as unknown", async () => {
    const user = await driver();
    await topUp(user, { amount: '2.00' });
    const globex = await h.tenant('Globex');
    expectError(await globex.call('GET', `/users/${user}/wallet`), 404, null);
    expectError(
      await globex.call('POST', `/users/${user}/wallet/top-ups`, { body: { amount: '1.00' } }),
      404,
      null,
    );
  });
});
