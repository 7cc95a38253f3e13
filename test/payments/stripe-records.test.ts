// Stripe's records behind the provider-records port: webhook verification and translation, and the lists
// reconciliation reads, against the stateful fake over several pages.
import Stripe from 'stripe';
import { createLogger } from '../../config/logger';
import { type FakeStripe, startFakeStripe } from '../../payments/fake-stripe';
import { type PaymentProvider } from '../../payments/port';
import { type ProviderRecords, WebhookSignatureError } from '../../payments/provider-records';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';
import { createStripeRecords } from '../../payments/stripe-records';
import { type Receiver, startReceiver } from './webhook-receiver';

const quiet = createLogger({}, 'error');
const secretKey = 'sk_test_records_123456789';
const secret = 'whsec_test_records';

let fake: FakeStripe;
let stripe: Stripe;
let provider: PaymentProvider;
let records: ProviderRecords;

beforeAll(async () => {
  fake = await startFakeStripe({ logger: quiet });
  stripe = createStripeClient({ secretKey, apiBase: fake.url });
  provider = createStripeProvider(stripe, { logger: quiet });
  records = createStripeRecords(stripe, { webhookSecret: secret, logger: quiet });
});

afterAll(() => fake.close());

beforeEach(() => fake.reset());

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function signed(event: object, opts: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: opts.secret ?? secret,
    ...(opts.timestamp === undefined ? {} : { timestamp: opts.timestamp }),
  });
  return { payload, header };
}

const created = 1_767_225_600; // 2026-01-01T00:00:00Z
const intent = {
  id: 'pi_1',
  object: 'payment_intent',
  amount: 5000,
  amount_received: 4200,
  currency: 'eur',
  created,
  status: 'succeeded',
  latest_charge: 'ch_1',
  metadata: { sessionId: 'ses_1' },
  last_payment_error: null,
};

function event(type: string, object: object) {
  return { id: 'evt_1', object: 'event', type, created: created + 5, data: { object }, livemode: false };
}

describe('verifyWebhook', () => {
  it('verifies and translates payment_intent.succeeded', () => {
    const { payload, header } = signed(event('payment_intent.succeeded', intent));
    expect(records.verifyWebhook(payload, header)).toEqual({
      eventId: 'evt_1',
      providerType: 'payment_intent.succeeded',
      created: '2026-01-01T00:00:05.000Z',
      kind: 'payment.succeeded',
      payment: {
        paymentId: 'pi_1',
        chargeId: 'ch_1',
        status: 'succeeded',
        amountMinor: 5000,
        amountCapturedMinor: 4200,
        currency: 'eur',
        created: '2026-01-01T00:00:00.000Z',
        metadata: { sessionId: 'ses_1' },
      },
    });
    expect(records.verifyWebhook(Buffer.from(payload), header).kind).toBe('payment.succeeded');
  });

  it('takes the decline code, else the error code, for payment_intent.payment_failed', () => {
    const failed = (error: object | null) =>
      records.verifyWebhook(
        ...(Object.values(
          signed(
            event('payment_intent.payment_failed', {
              ...intent,
              status: 'requires_payment_method',
              last_payment_error: error,
            }),
          ),
        ) as [string, string]),
      );
    expect(
      failed({ code: 'card_declined', decline_code: 'insufficient_funds', message: 'No funds.' }),
    ).toMatchObject({
      kind: 'payment.failed',
      code: 'insufficient_funds',
      message: 'No funds.',
    });
    expect(failed({ code: 'expired_card', message: 'Expired.' })).toMatchObject({ code: 'expired_card' });
    expect(failed(null)).toMatchObject({ code: 'payment_failed', message: expect.stringMatching(/failed/) });
  });

  it('translates payment_intent.canceled and charge.refunded, with refunds only when embedded', () => {
    const verify = (e: object) => {
      const { payload, header } = signed(e);
      return records.verifyWebhook(payload, header);
    };
    expect(verify(event('payment_intent.canceled', { ...intent, status: 'canceled' }))).toMatchObject({
      kind: 'payment.canceled',
      payment: { paymentId: 'pi_1', status: 'canceled' },
    });
    const charge = {
      id: 'ch_1',
      object: 'charge',
      payment_intent: 'pi_1',
      amount_refunded: 700,
      currency: 'eur',
    };
    expect(verify(event('charge.refunded', charge))).toEqual({
      eventId: 'evt_1',
      providerType: 'charge.refunded',
      created: '2026-01-01T00:00:05.000Z',
      kind: 'charge.refunded',
      paymentId: 'pi_1',
      chargeId: 'ch_1',
      amountRefundedMinor: 700,
      currency: 'eur',
      refunds: [],
    });
    const refund = {
      id: 're_1',
      object: 'refund',
      amount: 700,
      currency: 'eur',
      status: 'succeeded',
      reason: 'requested_by_customer',
      payment_intent: 'pi_1',
      charge: 'ch_1',
      created,
      metadata: {},
    };
    const embedded = verify(
      event('charge.refunded', { ...charge, refunds: { object: 'list', data: [refund] } }),
    );
    expect(embedded).toMatchObject({
      refunds: [
        {
          refundId: 're_1',
          paymentId: 'pi_1',
          amountMinor: 700,
          status: 'succeeded',
          reason: 'requested_by_customer',
          created: '2026-01-01T00:00:00.000Z',
        },
      ],
    });
  });

  it('translates disputes, finding the payment when Stripe leaves payment_intent null', () => {
    const dispute = {
      id: 'dp_1',
      object: 'dispute',
      amount: 3000,
      currency: 'eur',
      charge: 'ch_1',
      payment_intent: 'pi_1',
      reason: 'fraudulent',
      status: 'needs_response',
      created,
    };
    const verify = (type: string, object: object) => {
      const { payload, header } = signed(event(type, object));
      return records.verifyWebhook(payload, header);
    };
    expect(verify('charge.dispute.created', dispute)).toMatchObject({
      kind: 'dispute.opened',
      dispute: {
        disputeId: 'dp_1',
        paymentId: 'pi_1',
        chargeId: 'ch_1',
        amountMinor: 3000,
        currency: 'eur',
        status: 'needs_response',
        reason: 'fraudulent',
        created: '2026-01-01T00:00:00.000Z',
      },
    });
    const expandedCharge = {
      ...dispute,
      status: 'won',
      payment_intent: null,
      charge: { id: 'ch_1', payment_intent: 'pi_9' },
    };
    expect(verify('charge.dispute.closed', expandedCharge)).toMatchObject({
      kind: 'dispute.closed',
      dispute: { paymentId: 'pi_9', chargeId: 'ch_1', status: 'won' },
    });
    expect(verify('charge.dispute.closed', { ...dispute, payment_intent: null })).toMatchObject({
      dispute: { paymentId: 'ch_1', chargeId: 'ch_1' },
    });
  });

  it('answers any other event type with kind ignored', () => {
    const { payload, header } = signed(event('customer.created', { id: 'cus_1', object: 'customer' }));
    expect(records.verifyWebhook(payload, header)).toEqual({
      eventId: 'evt_1',
      providerType: 'customer.created',
      created: '2026-01-01T00:00:05.000Z',
      kind: 'ignored',
    });
  });

  it.each([
    [
      'a wrong secret',
      () => signed(event('payment_intent.succeeded', intent), { secret: 'whsec_other' }),
      /does not match/,
    ],
    [
      'a tampered body',
      () => {
        const s = signed(event('payment_intent.succeeded', intent));
        return { ...s, payload: s.payload.replace('4200', '42000') };
      },
      /does not match/,
    ],
    [
      'a stale timestamp',
      () =>
        signed(event('payment_intent.succeeded', intent), { timestamp: Math.floor(Date.now() / 1000) - 301 }),
      /older than the 300 s tolerance/,
    ],
    [
      'a missing header',
      () => ({ ...signed(event('payment_intent.succeeded', intent)), header: undefined }),
      /missing/,
    ],
    [
      'an empty header',
      () => ({ ...signed(event('payment_intent.succeeded', intent)), header: '' }),
      /missing/,
    ],
    [
      'a malformed header',
      () => ({ ...signed(event('payment_intent.succeeded', intent)), header: 'garbage' }),
      /malformed/,
    ],
  ])('refuses %s with WebhookSignatureError', (_label, make, message) => {
    const { payload, header } = make();
    let caught: unknown;
    try {
      records.verifyWebhook(payload, header);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WebhookSignatureError);
    expect((caught as Error).message).toMatch(message);
  });

  it('accepts an older signature within a longer tolerance', () => {
    const lenient = createStripeRecords(stripe, {
      webhookSecret: secret,
      toleranceSeconds: 3600,
      logger: quiet,
    });
    const { payload, header } = signed(event('payment_intent.succeeded', intent), {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(lenient.verifyWebhook(payload, header).kind).toBe('payment.succeeded');
  });

  it.each([
    ['a body that is not JSON', 'not json', /not JSON/],
    [
      'an event without data',
      JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded', created }),
      /event\.data/,
    ],
    [
      'an intent with a text amount',
      JSON.stringify(event('payment_intent.succeeded', { ...intent, amount: '5000' })),
      /amount must be an integer/,
    ],
    ['an event without an id', JSON.stringify({ ...event('customer.created', {}), id: 7 }), /id must be/],
    ['a JSON array', '[]', /expected an object/],
  ])('refuses %s, validly signed, with a plain Error naming the problem', (_label, payload, message) => {
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    let caught: unknown;
    try {
      records.verifyWebhook(payload, header);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).not.toBeInstanceOf(TypeError);
    expect(caught).not.toBeInstanceOf(WebhookSignatureError);
    expect((caught as Error).message).toMatch(message);
  });

  it('refuses to be built without a secret', () => {
    expect(() => createStripeRecords(stripe, { webhookSecret: '' })).toThrow(/webhookSecret/);
    expect(() => createStripeRecords(stripe, { webhookSecret: secret, toleranceSeconds: 0 })).toThrow(
      /tolerance/,
    );
  });
});

describe('the fake webhooks, verified by verifyWebhook', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it('translates every event the fake sends', async () => {
    fake.setWebhookEndpoint(receiver.url, secret);
    const paymentId = await capturedPayment(2000);
    await provider.refund({ paymentId, amountMinor: 500, idempotencyKey: 'refund:hook' });
    const dispute = fake.createDispute({ paymentIntent: paymentId, amount: 1500 });
    fake.closeDispute(dispute.id, 'won');
    await fake.webhooksIdle();

    const events = receiver.received.map((r) => records.verifyWebhook(r.body, r.signature));
    expect(events.map((e) => e.kind)).toEqual([
      'payment.succeeded',
      'charge.refunded',
      'dispute.opened',
      'dispute.closed',
    ]);
    expect(events[1]).toMatchObject({ paymentId, amountRefundedMinor: 500, refunds: [] });
    expect(events[3]).toMatchObject({
      dispute: { disputeId: dispute.id, paymentId, status: 'won', amountMinor: 1500 },
    });
  });
});

let seq = 0;
async function capturedPayment(amountMinor: number, captureMinor = amountMinor): Promise<string> {
  seq += 1;
  const auth = await provider.authorize({
    amountMinor,
    currency: 'eur',
    paymentMethodId: 'pm_card_visa',
    idempotencyKey: `authorize:records${seq}`,
    metadata: { n: String(seq) },
  });
  if (auth.outcome !== 'authorized') throw new Error('not authorized');
  await provider.capture({
    paymentId: auth.paymentId,
    amountMinor: captureMinor,
    idempotencyKey: `capture:records${seq}`,
  });
  return auth.paymentId;
}

describe('lists', () => {
  const t0 = 1_900_000_000;
  const at = (seconds: number) => new Date((t0 + seconds) * 1000);

  it('reads every page of payments and balance transactions (more than 100 of each)', async () => {
    fake.setNow(at(0));
    const ids: string[] = [];
    for (let i = 0; i < 130; i += 1) ids.push(await capturedPayment(1000 + i));
    const before = fake.requests().length;

    const payments = await collect(records.listPayments({ from: at(0), to: at(1) }));
    expect(payments).toHaveLength(130);
    expect(new Set(payments.map((p) => p.paymentId))).toEqual(new Set(ids));
    expect(payments.find((p) => p.paymentId === ids[7])).toEqual({
      paymentId: ids[7],
      chargeId: fake.paymentIntent(ids[7])?.latest_charge,
      status: 'succeeded',
      amountMinor: 1007,
      amountCapturedMinor: 1007,
      currency: 'eur',
      created: at(0).toISOString(),
      metadata: { n: expect.any(String) },
    });

    const txns = await collect(records.listBalanceTransactions({ from: at(0), to: at(1) }));
    expect(txns).toHaveLength(130);
    const txn = txns.find((t) => t.paymentId === ids[0]);
    expect(txn).toEqual({
      id: expect.stringMatching(/^txn_/),
      type: 'charge',
      sourceId: fake.paymentIntent(ids[0])?.latest_charge,
      paymentId: ids[0],
      amountMinor: 1000,
      feeMinor: 39,
      netMinor: 961,
      currency: 'eur',
      status: 'pending',
      created: at(0).toISOString(),
      availableOn: at(2 * 24 * 3600).toISOString(),
    });
    const pages = fake
      .requests()
      .slice(before)
      .map((r) => r.path);
    expect(pages).toEqual([
      '/v1/payment_intents',
      '/v1/payment_intents',
      '/v1/balance_transactions',
      '/v1/balance_transactions',
    ]);
  });

  it('keeps to [from, to) and finds refunds, disputes and their payments', async () => {
    fake.setNow(at(0));
    const before = await capturedPayment(1000);
    fake.setNow(at(100));
    const inside = await capturedPayment(2000);
    const refund = await provider.refund({
      paymentId: inside,
      amountMinor: 300,
      idempotencyKey: 'refund:range',
    });
    const dispute = fake.createDispute({ paymentIntent: inside, amount: 1700, reason: 'duplicate' });
    fake.setNow(at(200));
    await capturedPayment(3000);
    await provider.refund({ paymentId: before, amountMinor: 100, idempotencyKey: 'refund:late' });
    fake.setNow(undefined);

    const range = { from: at(100), to: at(200) };
    expect((await collect(records.listPayments(range))).map((p) => p.paymentId)).toEqual([inside]);
    expect(await collect(records.listRefunds(range))).toEqual([
      {
        refundId: refund.refundId,
        paymentId: inside,
        amountMinor: 300,
        currency: 'eur',
        status: 'succeeded',
        reason: null,
        created: at(100).toISOString(),
        metadata: {},
      },
    ]);
    expect((await collect(records.listRefunds({ paymentId: before }))).map((r) => r.amountMinor)).toEqual([
      100,
    ]);
    expect(await collect(records.listDisputes(range))).toEqual([
      {
        disputeId: dispute.id,
        paymentId: inside,
        chargeId: fake.paymentIntent(inside)?.latest_charge,
        amountMinor: 1700,
        currency: 'eur',
        status: 'needs_response',
        reason: 'duplicate',
        created: at(100).toISOString(),
      },
    ]);
    const txns = await collect(records.listBalanceTransactions(range));
    expect(txns.map((t) => [t.type, t.amountMinor, t.feeMinor, t.netMinor, t.paymentId])).toEqual([
      ['adjustment', -1700, 1500, -3200, inside],
      ['refund', -300, 0, -300, inside],
      ['charge', 2000, 53, 1947, inside],
    ]);
  });

  it('asks nothing for an empty range and refuses an invalid one', async () => {
    const before = fake.requests().length;
    expect(await collect(records.listPayments({ from: at(10), to: at(10) }))).toEqual([]);
    expect(fake.requests()).toHaveLength(before);
    await expect(collect(records.listDisputes({ from: new Date('nope'), to: at(1) }))).rejects.toThrow(
      /valid Date/,
    );
  });
});
