// The fake's events and signed webhooks, delivered to a real local HTTP endpoint and verified with the SDK.
import Stripe from 'stripe';
import { createLogger } from '../../config/logger';
import { type FakeStripe, startFakeStripe } from '../../payments/fake-stripe';
import { type PaymentProvider } from '../../payments/port';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';
import { type Receiver, startReceiver } from './webhook-receiver';

const quiet = createLogger({}, 'error');
const secretKey = 'sk_test_webhooks_123456789';
const secret = 'whsec_test_fake_webhooks';

let receiver: Receiver;
let fake: FakeStripe;
let stripe: Stripe;
let provider: PaymentProvider;

beforeAll(async () => {
  receiver = await startReceiver();
  fake = await startFakeStripe({
    logger: quiet,
    webhook: { url: receiver.url, secret },
    webhookRetry: { retryDelaysMs: [10, 20], timeoutMs: 2000 },
  });
  stripe = createStripeClient({ secretKey, apiBase: fake.url });
  provider = createStripeProvider(stripe, { logger: quiet });
});

afterAll(async () => {
  await fake.close();
  await receiver.close();
});

beforeEach(() => {
  fake.reset();
  receiver.received.length = 0;
});

let seq = 0;
async function authorize(amountMinor: number, paymentMethodId = 'pm_card_visa') {
  seq += 1;
  return provider.authorize({
    amountMinor,
    currency: 'eur',
    paymentMethodId,
    idempotencyKey: `authorize:webhooks${seq}`,
  });
}

async function captured(amountMinor: number): Promise<string> {
  const auth = await authorize(amountMinor);
  if (auth.outcome !== 'authorized') throw new Error('not authorized');
  await provider.capture({
    paymentId: auth.paymentId,
    amountMinor,
    idempotencyKey: `capture:${auth.paymentId}`,
  });
  return auth.paymentId;
}

/** Every delivery so far, each verified against the signing secret as a receiver would. */
async function verifiedEvents(): Promise<Stripe.Event[]> {
  await fake.webhooksIdle();
  return receiver.received.map((r) => stripe.webhooks.constructEvent(r.body, r.signature ?? '', secret));
}

describe('webhooks for payment events', () => {
  it('sends a signed payment_intent.succeeded on capture, naming the request that caused it', async () => {
    const paymentId = await captured(2500);
    const [event] = await verifiedEvents();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0].contentType).toMatch(/^application\/json/);
    expect(event).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      object: 'event',
      api_version: '2026-10-28.endive',
      type: 'payment_intent.succeeded',
      livemode: false,
      pending_webhooks: 1,
      request: { id: expect.stringMatching(/^req_/), idempotency_key: `capture:${paymentId}` },
      data: {
        object: {
          id: paymentId,
          object: 'payment_intent',
          status: 'succeeded',
          amount_received: 2500,
          latest_charge: expect.stringMatching(/^ch_/),
        },
      },
    });
    const [record] = fake.events();
    expect(record.event.id).toBe(event.id);
    expect(record.event.pending_webhooks).toBe(0);
    expect(record.delivery).toEqual({
      state: 'delivered',
      attempts: 1,
      deliveries: 1,
      lastStatus: 200,
      lastError: null,
    });
  });

  it('sends payment_intent.payment_failed for a decline and payment_intent.canceled for a released hold', async () => {
    const declined = await authorize(900, 'pm_card_chargeDeclinedInsufficientFunds');
    const held = await authorize(1200);
    if (held.outcome !== 'authorized') throw new Error('not authorized');
    await provider.cancel({ paymentId: held.paymentId, idempotencyKey: 'cancel:webhooks' });

    const events = await verifiedEvents();
    expect(events.map((e) => [e.type, (e.data.object as { id: string }).id])).toEqual([
      ['payment_intent.payment_failed', declined.paymentId],
      ['payment_intent.canceled', held.paymentId],
    ]);
    expect(events[0].data.object).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds' },
    });
  });

  it('sends charge.refunded with the running totals and without embedded refunds', async () => {
    const paymentId = await captured(1000);
    await provider.refund({ paymentId, amountMinor: 400, idempotencyKey: 'refund:w1' });
    await provider.refund({ paymentId, amountMinor: 600, idempotencyKey: 'refund:w2' });
    const refunded = (await verifiedEvents()).filter((e) => e.type === 'charge.refunded');
    expect(
      refunded.map((e) => {
        const charge = e.data.object as Stripe.Charge;
        return [
          charge.object,
          charge.payment_intent,
          charge.amount_refunded,
          charge.refunded,
          'refunds' in charge,
        ];
      }),
    ).toEqual([
      ['charge', paymentId, 400, false, false],
      ['charge', paymentId, 1000, true, false],
    ]);
  });

  it('sends charge.dispute.created and charge.dispute.closed', async () => {
    const paymentId = await captured(3000);
    const dispute = fake.createDispute({ paymentIntent: paymentId });
    fake.closeDispute(dispute.id, 'lost');
    const events = (await verifiedEvents()).filter((e) => e.type.startsWith('charge.dispute.'));
    expect(events.map((e) => [e.type, (e.data.object as Stripe.Dispute).status, e.request])).toEqual([
      ['charge.dispute.created', 'needs_response', { id: null, idempotency_key: null }],
      ['charge.dispute.closed', 'lost', { id: null, idempotency_key: null }],
    ]);
  });

  it('sends nothing for a replayed request', async () => {
    const paymentId = await captured(700);
    await provider.capture({ paymentId, amountMinor: 700, idempotencyKey: `capture:${paymentId}` });
    expect((await verifiedEvents()).map((e) => e.type)).toEqual(['payment_intent.succeeded']);
  });
});

describe('delivery', () => {
  it('answers the API call without waiting for the endpoint', async () => {
    const release = receiver.hold();
    try {
      await captured(500);
      await receiver.waitFor(1);
      expect(fake.events()[0].delivery.state).toBe('pending');
    } finally {
      release();
    }
    await fake.webhooksIdle();
    expect(fake.events()[0].delivery.state).toBe('delivered');
  });

  it('retries a failed delivery with the same event, signed afresh', async () => {
    receiver.answerWith(500, 503);
    await captured(500);
    await fake.webhooksIdle();
    expect(receiver.received.map((r) => r.id)).toEqual(Array(3).fill(fake.events()[0].event.id));
    for (const r of receiver.received)
      expect(() => stripe.webhooks.constructEvent(r.body, r.signature ?? '', secret)).not.toThrow();
    expect(fake.events()[0].delivery).toMatchObject({ state: 'delivered', attempts: 3, deliveries: 1 });
  });

  it('gives up after the last retry and says why', async () => {
    receiver.answerWith(500, 500, 500);
    await captured(500);
    await fake.webhooksIdle();
    expect(receiver.received).toHaveLength(3);
    expect(fake.events()[0].delivery).toEqual({
      state: 'failed',
      attempts: 3,
      deliveries: 0,
      lastStatus: 500,
      lastError: 'HTTP 500',
    });
    expect(fake.events()[0].event.pending_webhooks).toBe(1);
  });

  it('records an unreachable endpoint as a failure without disturbing the API', async () => {
    const gone = await startReceiver();
    const url = gone.url;
    await gone.close();
    fake.setWebhookEndpoint(url, secret);
    await captured(500);
    await fake.webhooksIdle();
    expect(fake.events()[0].delivery).toMatchObject({ state: 'failed', attempts: 3, lastStatus: null });
    expect(fake.events()[0].delivery.lastError).toMatch(/ECONNREFUSED/);
  });

  it('resends an event with the same id, as Stripe does on a duplicate delivery', async () => {
    await captured(500);
    const [record] = fake.events();
    const delivery = await fake.resendEvent(record.event.id);
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 2, deliveries: 2 });
    const events = await verifiedEvents();
    expect(events.map((e) => e.id)).toEqual([record.event.id, record.event.id]);
    expect(receiver.received[1].body).toBe(receiver.received[0].body);
    await expect(fake.resendEvent('evt_missing')).rejects.toThrow(/No such event/);
  });

  it('resends through the control route', async () => {
    await captured(500);
    const [record] = fake.events();
    const res = await fetch(`${fake.url}/_fake/events/${record.event.id}/resend`, { method: 'POST' });
    expect(res.status).toBe(200);
    await fake.webhooksIdle();
    expect(receiver.received.map((r) => r.id)).toEqual([record.event.id, record.event.id]);
  });

  it('keeps events without an endpoint, and sends them once one is set and they are resent', async () => {
    fake.removeWebhookEndpoint();
    await captured(500);
    const [record] = fake.events();
    expect(record.delivery.state).toBe('not_sent');
    expect(record.event.pending_webhooks).toBe(0);
    await expect(fake.resendEvent(record.event.id)).rejects.toThrow(/No webhook endpoint/);

    const other = await startReceiver();
    try {
      fake.setWebhookEndpoint(other.url, 'whsec_other');
      await fake.resendEvent(record.event.id);
      expect(other.received.map((r) => r.id)).toEqual([record.event.id]);
      expect(() =>
        stripe.webhooks.constructEvent(
          other.received[0].body,
          other.received[0].signature ?? '',
          'whsec_other',
        ),
      ).not.toThrow();
      expect(receiver.received).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses an endpoint that is not an http(s) URL or has no secret', () => {
    expect(() => fake.setWebhookEndpoint('ftp://example.com/hook', secret)).toThrow(/http or https/);
    expect(() => fake.setWebhookEndpoint('not a url', secret)).toThrow(/absolute/);
    expect(() => fake.setWebhookEndpoint(receiver.url, ' ')).toThrow(/secret/);
  });

  it('abandons deliveries under way on reset', async () => {
    receiver.answerWith(500);
    await captured(500);
    await receiver.waitFor(1);
    fake.reset();
    await fake.webhooksIdle();
    await new Promise((r) => setTimeout(r, 50));
    expect(receiver.received).toHaveLength(1);
    expect(fake.events()).toEqual([]);
  });
});

describe('GET /v1/events', () => {
  it('lists events newest first, filtered by type, with their wire shape', async () => {
    const paymentId = await captured(1000);
    await provider.refund({ paymentId, amountMinor: 100, idempotencyKey: 'refund:events' });
    const dispute = fake.createDispute({ paymentIntent: paymentId, amount: 900 });
    await fake.webhooksIdle();

    const all = await stripe.events.list().autoPagingToArray({ limit: 100 });
    expect(all.map((e) => e.type)).toEqual([
      'charge.dispute.created',
      'charge.refunded',
      'payment_intent.succeeded',
    ]);
    const disputes = await stripe.events.list({ type: 'charge.dispute.*' });
    expect(disputes.data.map((e) => (e.data.object as { id: string }).id)).toEqual([dispute.id]);
    const some = await stripe.events.list({
      types: ['charge.refunded', 'payment_intent.succeeded'],
      limit: 1,
    });
    expect(some.has_more).toBe(true);
    expect((await stripe.events.retrieve(all[2].id)).type).toBe('payment_intent.succeeded');
    expect((await stripe.events.list({ delivery_success: false })).data).toEqual([]);
  });
});
