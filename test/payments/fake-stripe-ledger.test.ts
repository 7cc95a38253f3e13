// The fake's books: charges, balance transactions with fees, refunds, transfers and disputes, and the list
// endpoints that serve them, read through the real `stripe` SDK.
import Stripe from 'stripe';
import { createLogger } from '../../config/logger';
import { type FakeStripe, processingFee, startFakeStripe, DEFAULT_FEES } from '../../payments/fake-stripe';
import { type PaymentProvider } from '../../payments/port';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';

const quiet = createLogger({}, 'error');
const secretKey = 'sk_test_ledger_123456789';
const DAY = 24 * 3600;

let fake: FakeStripe;
let stripe: Stripe;
let provider: PaymentProvider;

beforeAll(async () => {
  fake = await startFakeStripe({ logger: quiet });
  stripe = createStripeClient({ secretKey, apiBase: fake.url });
  provider = createStripeProvider(stripe, { logger: quiet });
});

afterAll(() => fake.close());

beforeEach(() => fake.reset());

let seq = 0;
async function authorize(amountMinor: number, paymentMethodId = 'pm_card_visa'): Promise<string> {
  seq += 1;
  const result = await provider.authorize({
    amountMinor,
    currency: 'EUR',
    paymentMethodId,
    idempotencyKey: `authorize:ledger${seq}`,
    description: `Charging session ses_${seq}`,
    metadata: { sessionId: `ses_${seq}` },
  });
  if (result.outcome !== 'authorized') throw new Error(`not authorized: ${JSON.stringify(result)}`);
  return result.paymentId;
}

async function captured(amountMinor: number, captureMinor = amountMinor): Promise<string> {
  const paymentId = await authorize(amountMinor);
  seq += 1;
  await provider.capture({ paymentId, amountMinor: captureMinor, idempotencyKey: `capture:ledger${seq}` });
  return paymentId;
}

function chargeOf(paymentId: string) {
  const chargeId = fake.paymentIntent(paymentId)?.latest_charge;
  if (!chargeId) throw new Error(`${paymentId} has no charge`);
  const charge = fake.charge(chargeId);
  if (!charge) throw new Error(`charge ${chargeId} is not stored`);
  return charge;
}

describe('processing fees', () => {
  it.each([
    [10_000, 165], // 140 + 25
    [1_250, 43], // 17.5 + 25 = 42.5, half-up
    [1_214, 42], // 16.996 + 25
    [1, 25],
    [99_999_999, 1_400_025], // 1 399 999.986 + 25, no float drift at the top of the range
  ])('charges 1.4 %% + 25 on %i as %i', (amount, fee) => {
    expect(processingFee(amount, DEFAULT_FEES)).toBe(fee);
  });

  it('uses the schedule it is started with', async () => {
    const priced = await startFakeStripe({
      logger: quiet,
      fees: { percent: '2.9', fixedMinor: 30, disputeMinor: 2000 },
    });
    try {
      const client = createStripeProvider(createStripeClient({ secretKey, apiBase: priced.url }), {
        logger: quiet,
      });
      const auth = await client.authorize({
        amountMinor: 1000,
        currency: 'usd',
        paymentMethodId: 'pm_card_visa',
        idempotencyKey: 'fees:auth',
      });
      if (auth.outcome !== 'authorized') throw new Error('not authorized');
      await client.capture({ paymentId: auth.paymentId, amountMinor: 1000, idempotencyKey: 'fees:capture' });
      const dispute = priced.createDispute({ paymentIntent: auth.paymentId });
      expect(priced.listBalanceTransactions().map((t) => [t.type, t.amount, t.fee, t.net])).toEqual([
        ['charge', 1000, 59, 941],
        ['adjustment', -1000, 2000, -3000],
      ]);
      expect(dispute.balance_transactions[0].fee).toBe(2000);
    } finally {
      await priced.close();
    }
  });

  it('refuses a schedule that is not a percentage or has fractional fees', async () => {
    await expect(startFakeStripe({ logger: quiet, fees: { percent: 'lots' } })).rejects.toThrow(/percent/);
    await expect(startFakeStripe({ logger: quiet, fees: { percent: 120 } })).rejects.toThrow(/percent/);
    await expect(startFakeStripe({ logger: quiet, fees: { fixedMinor: 2.5 } })).rejects.toThrow(/fixedMinor/);
  });
});

describe('charges and balance transactions', () => {
  it('makes an uncaptured charge on authorization and books the capture with its fee', async () => {
    const paymentId = await authorize(5000);
    const held = chargeOf(paymentId);
    expect(held).toMatchObject({
      object: 'charge',
      amount: 5000,
      amount_captured: 0,
      captured: false,
      paid: true,
      status: 'succeeded',
      payment_intent: paymentId,
      currency: 'eur',
      balance_transaction: null,
    });
    expect(fake.listBalanceTransactions()).toEqual([]);

    await provider.capture({ paymentId, amountMinor: 1234, idempotencyKey: 'capture:partial' });
    const charge = chargeOf(paymentId);
    expect(charge).toMatchObject({ id: held.id, captured: true, amount: 5000, amount_captured: 1234 });
    const [txn] = fake.listBalanceTransactions();
    expect(txn).toEqual({
      id: charge.balance_transaction,
      object: 'balance_transaction',
      amount: 1234,
      available_on: txn.created + 2 * DAY,
      balance_type: 'payments',
      created: charge.created,
      currency: 'eur',
      description: expect.stringMatching(/^Charging session/),
      exchange_rate: null,
      fee: 42, // 17.276 + 25
      fee_details: [
        {
          amount: 42,
          application: null,
          currency: 'eur',
          description: 'Stripe processing fees',
          type: 'stripe_fee',
        },
      ],
      net: 1192,
      reporting_category: 'charge',
      source: charge.id,
      status: 'pending',
      type: 'charge',
    });
  });

  it('books nothing for a replayed capture', async () => {
    const paymentId = await authorize(800);
    await provider.capture({ paymentId, amountMinor: 800, idempotencyKey: 'capture:twice' });
    await provider.capture({ paymentId, amountMinor: 800, idempotencyKey: 'capture:twice' });
    expect(fake.listBalanceTransactions()).toHaveLength(1);
  });

  it('records a declined confirmation as a failed charge that books nothing', async () => {
    const result = await provider.authorize({
      amountMinor: 900,
      currency: 'eur',
      paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
      idempotencyKey: 'authorize:declined',
    });
    expect(result).toMatchObject({ outcome: 'declined', code: 'insufficient_funds' });
    const [charge] = fake.listCharges();
    expect(charge).toMatchObject({
      status: 'failed',
      paid: false,
      captured: false,
      failure_code: 'card_declined',
      outcome: { type: 'issuer_declined', reason: 'insufficient_funds' },
      payment_intent: result.paymentId,
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
    });
    expect(fake.paymentIntent(result.paymentId ?? '')?.latest_charge).toBe(charge.id);
    expect(fake.listBalanceTransactions()).toEqual([]);
  });

  it('books an automatic capture at confirmation', async () => {
    const intent = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'eur',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'automatic',
    });
    expect(intent.status).toBe('succeeded');
    expect(chargeOf(intent.id)).toMatchObject({ captured: true, amount_captured: 2000 });
    expect(fake.listBalanceTransactions().map((t) => [t.type, t.amount, t.fee])).toEqual([
      ['charge', 2000, 53],
    ]);
  });

  it('makes a transaction available once its available_on has passed on the fake clock', async () => {
    const paymentId = await captured(1000);
    const id = chargeOf(paymentId).balance_transaction ?? '';
    const created = fake.balanceTransaction(id)?.created ?? 0;
    fake.setNow(new Date((created + 2 * DAY - 1) * 1000));
    expect(fake.balanceTransaction(id)?.status).toBe('pending');
    fake.setNow(new Date((created + 2 * DAY) * 1000));
    expect(fake.balanceTransaction(id)?.status).toBe('available');
    expect((await stripe.balanceTransactions.retrieve(id)).status).toBe('available');
  });
});

describe('refunds and transfers on the books', () => {
  it('books each refund as a negative transaction without fee and totals it on the charge', async () => {
    const paymentId = await captured(1000);
    const first = await provider.refund({ paymentId, amountMinor: 300, idempotencyKey: 'refund:1' });
    expect(chargeOf(paymentId)).toMatchObject({ amount_refunded: 300, refunded: false });
    const second = await provider.refund({ paymentId, amountMinor: 700, idempotencyKey: 'refund:2' });
    expect(chargeOf(paymentId)).toMatchObject({ amount_refunded: 1000, refunded: true });

    const refundTxns = fake.listBalanceTransactions().filter((t) => t.type === 'refund');
    expect(refundTxns.map((t) => [t.source, t.amount, t.fee, t.net, t.reporting_category])).toEqual([
      [first.refundId, -300, 0, -300, 'refund'],
      [second.refundId, -700, 0, -700, 'refund'],
    ]);
    expect(fake.refund(first.refundId)?.balance_transaction).toBe(refundTxns[0].id);
    expect(refundTxns[0].status).toBe('available');
  });

  it('books a transfer out of the balance', async () => {
    const result = await provider.transfer({
      destinationAccountId: 'acct_1Owner',
      amountMinor: 2500,
      currency: 'eur',
      idempotencyKey: 'transfer:ledger',
    });
    const [txn] = fake.listBalanceTransactions();
    expect(txn).toMatchObject({
      type: 'transfer',
      amount: -2500,
      fee: 0,
      net: -2500,
      source: result.transferId,
    });
    expect(fake.transfer(result.transferId)?.balance_transaction).toBe(txn.id);
  });
});

describe('disputes', () => {
  it('withdraws the amount and the dispute fee, and gives the amount back when won', async () => {
    const paymentId = await captured(4000);
    const charge = chargeOf(paymentId);
    const dispute = fake.createDispute({ paymentIntent: paymentId, reason: 'fraudulent' });
    expect(dispute).toMatchObject({
      id: expect.stringMatching(/^dp_/),
      object: 'dispute',
      amount: 4000,
      charge: charge.id,
      payment_intent: paymentId,
      currency: 'eur',
      reason: 'fraudulent',
      status: 'needs_response',
      livemode: false,
    });
    expect(dispute.balance_transactions.map((t) => [t.type, t.amount, t.fee, t.net, t.source])).toEqual([
      ['adjustment', -4000, 1500, -5500, dispute.id],
    ]);
    expect(chargeOf(paymentId).disputed).toBe(true);

    const won = fake.closeDispute(dispute.id, 'won');
    expect(won.status).toBe('won');
    expect(won.balance_transactions.map((t) => [t.amount, t.fee, t.reporting_category])).toEqual([
      [-4000, 1500, 'dispute'],
      [4000, 0, 'dispute_reversal'],
    ]);
    expect(() => fake.closeDispute(dispute.id, 'lost')).toThrow(/already closed/);
  });

  it('keeps the money withdrawn when lost, and disputes part of a charge when asked', async () => {
    const paymentId = await captured(4000);
    const dispute = fake.createDispute({ paymentIntent: paymentId, amount: 1500 });
    expect(dispute).toMatchObject({ amount: 1500, reason: 'general' });
    const lost = fake.closeDispute(dispute.id, 'lost');
    expect(lost.status).toBe('lost');
    expect(lost.balance_transactions).toHaveLength(1);
    expect(fake.listBalanceTransactions().filter((t) => t.type === 'adjustment')).toHaveLength(1);
  });

  it('refuses disputes that cannot happen', async () => {
    const held = await authorize(1000);
    expect(() => fake.createDispute({ paymentIntent: held })).toThrow(/no captured charge/);
    expect(() => fake.createDispute({ paymentIntent: 'pi_missing' })).toThrow(/No such payment_intent/);
    const paymentId = await captured(1000);
    expect(() => fake.createDispute({ paymentIntent: paymentId, amount: 1001 })).toThrow(/amount/);
    fake.createDispute({ paymentIntent: paymentId });
    expect(() => fake.createDispute({ paymentIntent: paymentId })).toThrow(/already disputed/);
    expect(() => fake.closeDispute('dp_missing', 'won')).toThrow(/No such dispute/);
  });

  it('opens and closes disputes through the control routes, with a form or JSON body and no key', async () => {
    const paymentId = await captured(3000);
    const opened = await fetch(`${fake.url}/_fake/disputes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ payment_intent: paymentId, amount: 2000, reason: 'duplicate' }),
    });
    expect(opened.status).toBe(200);
    const dispute = (await opened.json()) as { id: string; amount: number; reason: string };
    expect(dispute).toMatchObject({ amount: 2000, reason: 'duplicate' });

    const badStatus = await fetch(`${fake.url}/_fake/disputes/${dispute.id}/close`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'status=maybe',
    });
    expect(badStatus.status).toBe(400);
    expect(((await badStatus.json()) as { error: { param: string } }).error.param).toBe('status');

    const closed = await fetch(`${fake.url}/_fake/disputes/${dispute.id}/close`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'status=won',
    });
    expect(((await closed.json()) as { status: string }).status).toBe('won');

    const missing = await fetch(`${fake.url}/_fake/disputes`, { method: 'POST', body: '' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe('payment_intent');
  });
});

describe('list and retrieve endpoints through the SDK', () => {
  it('walks every page newest first with auto-pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i += 1) ids.unshift(await authorize(100 + i));
    const before = fake.requests().length;
    const seen: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ limit: 5 })) seen.push(pi.id);
    expect(seen).toEqual(ids);
    expect(
      fake
        .requests()
        .slice(before)
        .map((r) => r.path),
    ).toEqual(Array(5).fill('/v1/payment_intents'));
    const charges = await stripe.charges.list({ limit: 10 }).autoPagingToArray({ limit: 100 });
    expect(charges).toHaveLength(23);
    expect(new Set(charges.map((c) => c.payment_intent))).toEqual(new Set(ids));
  });

  it.each([
    [10, 2],
    [11, 3],
  ])(
    'pages %i objects at limit 5 in %i requests, neither stopping early nor asking once too often',
    async (n, pages) => {
      for (let i = 0; i < n; i += 1) await authorize(100 + i);
      const before = fake.requests().length;
      const seen = await stripe.paymentIntents.list({ limit: 5 }).autoPagingToArray({ limit: 100 });
      expect(new Set(seen.map((pi) => pi.id)).size).toBe(n);
      expect(fake.requests().length - before).toBe(pages);
    },
  );

  it('pages backwards with ending_before', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) ids.unshift(await authorize(100 + i));
    const page = await stripe.paymentIntents.list({ limit: 2, ending_before: ids[4] });
    expect(page.data.map((pi) => pi.id)).toEqual([ids[2], ids[3]]);
    expect(page.has_more).toBe(true);
    const older = await stripe.paymentIntents.list({ limit: 2, starting_after: ids[4] });
    expect(older.data.map((pi) => pi.id)).toEqual([ids[5]]);
    expect(older.has_more).toBe(false);
  });

  it('filters by created range on the fake clock', async () => {
    const t0 = 1_900_000_000;
    fake.setNow(new Date(t0 * 1000));
    const early = await captured(1000);
    fake.setNow(new Date((t0 + 60) * 1000));
    const late = await captured(2000);
    // Out of order on purpose: lists sort by `created`, not by when the fake made the object.
    fake.setNow(new Date((t0 + 30) * 1000));
    const middle = await captured(1500);
    fake.setNow(undefined);

    const ids = async (created: Stripe.RangeQueryParam) =>
      (await stripe.paymentIntents.list({ created })).data.map((pi) => pi.id);
    expect(await ids({ gte: t0 })).toEqual([late, middle, early]);
    expect(await ids({ gte: t0, lt: t0 + 60 })).toEqual([middle, early]);
    expect(await ids({ gt: t0, lte: t0 + 60 })).toEqual([late, middle]);
    const txns = await stripe.balanceTransactions.list({ created: { gte: t0 + 30 } });
    expect(txns.data.map((t) => t.amount)).toEqual([2000, 1500]);
    const bad = await fetch(`${fake.url}/v1/charges?created[since]=1`, {
      headers: { Authorization: `Bearer ${secretKey}` },
    });
    expect(bad.status).toBe(400);
  });

  it('filters charges, refunds and disputes by payment_intent', async () => {
    const a = await captured(1000);
    const b = await captured(2000);
    await provider.refund({ paymentId: a, amountMinor: 100, idempotencyKey: 'refund:a' });
    await provider.refund({ paymentId: b, amountMinor: 200, idempotencyKey: 'refund:b' });
    fake.createDispute({ paymentIntent: b });

    expect((await stripe.charges.list({ payment_intent: a })).data.map((c) => c.amount)).toEqual([1000]);
    expect((await stripe.refunds.list({ payment_intent: b })).data.map((r) => r.amount)).toEqual([200]);
    expect((await stripe.disputes.list({ payment_intent: a })).data).toEqual([]);
    expect((await stripe.disputes.list({ payment_intent: b })).data.map((d) => d.amount)).toEqual([2000]);
  });

  it('expands the balance transactions source to the charge, refund or dispute', async () => {
    const paymentId = await captured(1000);
    const refund = await provider.refund({ paymentId, amountMinor: 400, idempotencyKey: 'refund:expand' });
    const dispute = fake.createDispute({ paymentIntent: paymentId, amount: 600 });
    const txns = await stripe.balanceTransactions.list({ expand: ['data.source'] });
    const sources = txns.data.map((t) => t.source as { id: string; object: string; payment_intent: string });
    expect(sources.map((s) => [s.object, s.id, s.payment_intent])).toEqual([
      ['dispute', dispute.id, paymentId],
      ['refund', refund.refundId, paymentId],
      ['charge', chargeOf(paymentId).id, paymentId],
    ]);
    const plain = await stripe.balanceTransactions.list();
    expect(plain.data.map((t) => typeof t.source)).toEqual(['string', 'string', 'string']);

    const one = await stripe.balanceTransactions.retrieve(txns.data[2].id, { expand: ['source'] });
    expect((one.source as { object: string }).object).toBe('charge');
    await expect(stripe.balanceTransactions.list({ expand: ['data.nothing'] })).rejects.toThrow(
      /cannot be expanded/,
    );
  });

  it('retrieves charges, disputes and balance transactions, and 404s unknown ids', async () => {
    const paymentId = await captured(1000);
    const charge = chargeOf(paymentId);
    const dispute = fake.createDispute({ paymentIntent: paymentId });
    expect((await stripe.charges.retrieve(charge.id)).amount_captured).toBe(1000);
    expect((await stripe.disputes.retrieve(dispute.id)).status).toBe('needs_response');
    expect((await stripe.balanceTransactions.retrieve(charge.balance_transaction ?? '')).fee).toBe(39);
    await expect(stripe.charges.retrieve('ch_missing')).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    await expect(stripe.disputes.retrieve('dp_missing')).rejects.toMatchObject({ statusCode: 404 });
    await expect(stripe.balanceTransactions.retrieve('txn_missing')).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('forgets the books on reset', async () => {
    const paymentId = await captured(1000);
    fake.createDispute({ paymentIntent: paymentId });
    fake.reset();
    expect([fake.listCharges(), fake.listBalanceTransactions(), fake.listDisputes(), fake.events()]).toEqual([
      [],
      [],
      [],
      [],
    ]);
  });
});
