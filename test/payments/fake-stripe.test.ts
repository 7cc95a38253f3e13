// The Stripe adapter against the stateful fake, over real HTTP with the real `stripe` SDK.
import { createLogger } from '../../config/logger';
import { type FakeStripe, startFakeStripe } from '../../payments/fake-stripe';
import {
  type AuthorizeRequest,
  type PaymentProvider,
  PaymentRejectedError,
  type TransferRequest,
} from '../../payments/port';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';

const quiet = createLogger({}, 'error');
const secretKey = 'sk_test_fake_123456789';

let fake: FakeStripe;
let provider: PaymentProvider;

beforeAll(async () => {
  fake = await startFakeStripe({ logger: quiet });
  provider = createStripeProvider(createStripeClient({ secretKey, apiBase: fake.url }), { logger: quiet });
});

afterAll(() => fake.close());

beforeEach(() => fake.reset());

let keySeq = 0;
function authorizeRequest(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  keySeq += 1;
  return {
    amountMinor: 5000,
    currency: 'EUR',
    paymentMethodId: 'pm_card_visa',
    customerId: 'cus_driver42',
    idempotencyKey: `authorize:ses_test${keySeq}`,
    description: 'Charging session ses_test',
    metadata: { sessionId: `ses_test${keySeq}`, chargePointId: 'CP-1' },
    ...overrides,
  };
}

async function authorized(overrides: Partial<AuthorizeRequest> = {}): Promise<string> {
  const result = await provider.authorize(authorizeRequest(overrides));
  if (result.outcome !== 'authorized')
    throw new Error(`expected an authorization, got ${JSON.stringify(result)}`);
  return result.paymentId;
}

async function rejection(promise: Promise<unknown>): Promise<PaymentRejectedError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PaymentRejectedError);
  return err as PaymentRejectedError;
}

async function transientFailure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(PaymentRejectedError);
  return err as Error;
}

describe('authorize, capture, cancel through the adapter', () => {
  it('places a hold and captures part of it, releasing the rest', async () => {
    const auth = await provider.authorize(authorizeRequest({ amountMinor: 5000 }));
    expect(auth).toEqual({
      outcome: 'authorized',
      paymentId: expect.stringMatching(/^pi_/),
      amountCapturableMinor: 5000,
      incrementalAuthorization: true,
      multicapture: false,
      captureBefore: expect.any(String),
      card: { brand: 'visa', last4: '4242' },
    });
    if (auth.outcome !== 'authorized') return;

    const held = fake.paymentIntent(auth.paymentId);
    expect(held).toMatchObject({
      object: 'payment_intent',
      status: 'requires_capture',
      amount: 5000,
      amount_capturable: 5000,
      currency: 'eur',
      capture_method: 'manual',
      customer: 'cus_driver42',
      payment_method: 'pm_card_visa',
      livemode: false,
      latest_charge: expect.stringMatching(/^ch_/),
      metadata: { chargePointId: 'CP-1' },
    });

    const captured = await provider.capture({
      paymentId: auth.paymentId,
      amountMinor: 1234,
      idempotencyKey: 'capture:1',
    });
    expect(captured).toEqual({
      paymentId: auth.paymentId,
      amountCapturedMinor: 1234,
      amountCapturableMinor: 0,
      status: 'captured',
    });
    expect(fake.paymentIntent(auth.paymentId)).toMatchObject({
      status: 'succeeded',
      amount_received: 1234,
      amount_capturable: 0,
    });
  });

  it('sends our idempotency key on every money-moving call', async () => {
    const paymentId = await authorized({ idempotencyKey: 'authorize:ses_keys' });
    await provider.capture({ paymentId, amountMinor: 100, idempotencyKey: 'capture:ses_keys' });
    expect(fake.requests().map((r) => [r.method, r.path, r.idempotencyKey])).toEqual([
      ['POST', '/v1/payment_intents', 'authorize:ses_keys'],
      ['POST', `/v1/payment_intents/${paymentId}/capture`, 'capture:ses_keys'],
    ]);
  });

  it('cancels a hold instead of capturing zero', async () => {
    const paymentId = await authorized();
    await rejection(provider.capture({ paymentId, amountMinor: 0, idempotencyKey: 'capture:zero' }));
    expect(fake.requests()).toHaveLength(1); // refused locally, nothing sent

    await expect(provider.cancel({ paymentId, idempotencyKey: 'cancel:1' })).resolves.toEqual({
      paymentId,
      status: 'canceled',
    });
    expect(fake.paymentIntent(paymentId)).toMatchObject({
      status: 'canceled',
      amount_capturable: 0,
      amount_received: 0,
    });
  });

  it('rejects a capture above the capturable amount and leaves the hold in place', async () => {
    const paymentId = await authorized({ amountMinor: 5000 });
    const err = await rejection(
      provider.capture({ paymentId, amountMinor: 5001, idempotencyKey: 'capture:big' }),
    );
    expect(err.code).toBe('amount_too_large');
    expect(err.statusCode).toBe(400);
    expect(fake.paymentIntent(paymentId)).toMatchObject({
      status: 'requires_capture',
      amount_capturable: 5000,
    });
  });

  it('rejects fractional amounts before calling Stripe', async () => {
    const err = await rejection(provider.authorize(authorizeRequest({ amountMinor: 12.5 })));
    expect(err.code).toBe('invalid_amount');
    expect(fake.requests()).toHaveLength(0);
  });

  it('rejects cancelling a captured payment', async () => {
    const paymentId = await authorized();
    await provider.capture({ paymentId, amountMinor: 4000, idempotencyKey: 'capture:c1' });
    const err = await rejection(provider.cancel({ paymentId, idempotencyKey: 'cancel:c1' }));
    expect(err.code).toBe('payment_intent_unexpected_state');
    expect(fake.paymentIntent(paymentId)?.status).toBe('succeeded');
  });

  it('treats a repeated capture of the same amount under a new key as done, but not a different amount', async () => {
    const paymentId = await authorized();
    await provider.capture({ paymentId, amountMinor: 4000, idempotencyKey: 'capture:first' });
    await expect(
      provider.capture({ paymentId, amountMinor: 4000, idempotencyKey: 'capture:second' }),
    ).resolves.toEqual({
      paymentId,
      amountCapturedMinor: 4000,
      amountCapturableMinor: 0,
      status: 'captured',
    });
    const err = await rejection(
      provider.capture({ paymentId, amountMinor: 3000, idempotencyKey: 'capture:third' }),
    );
    expect(err.code).toBe('payment_intent_unexpected_state');
    expect(fake.paymentIntent(paymentId)?.amount_received).toBe(4000);
  });

  it('treats cancelling an already cancelled hold as done', async () => {
    const paymentId = await authorized();
    await provider.cancel({ paymentId, idempotencyKey: 'cancel:first' });
    await expect(provider.cancel({ paymentId, idempotencyKey: 'cancel:second' })).resolves.toEqual({
      paymentId,
      status: 'canceled',
    });
  });

  it('rejects capturing an unknown payment', async () => {
    const err = await rejection(
      provider.capture({ paymentId: 'pi_nope', amountMinor: 1, idempotencyKey: 'capture:x' }),
    );
    expect(err.code).toBe('resource_missing');
    expect(err.statusCode).toBe(404);
  });
});

describe('refunds', () => {
  async function captured(amountMinor: number): Promise<string> {
    const paymentId = await authorized({ amountMinor: 5000 });
    await provider.capture({ paymentId, amountMinor, idempotencyKey: `capture:${paymentId}` });
    return paymentId;
  }

  it('refunds a captured payment in full, and nothing more after that', async () => {
    const paymentId = await captured(4000);
    const refund = await provider.refund({
      paymentId,
      amountMinor: 4000,
      idempotencyKey: 'refund:full:1',
      reason: 'requested_by_customer',
      metadata: { sessionId: 'ses_refund' },
    });
    expect(refund).toEqual({
      refundId: expect.stringMatching(/^re_/),
      paymentId,
      amountRefundedMinor: 4000,
      status: 'succeeded',
    });
    expect(fake.refund(refund.refundId)).toEqual({
      id: refund.refundId,
      object: 'refund',
      amount: 4000,
      balance_transaction: expect.stringMatching(/^txn_/),
      charge: fake.paymentIntent(paymentId)?.latest_charge,
      created: expect.any(Number),
      currency: 'eur',
      metadata: { sessionId: 'ses_refund' },
      payment_intent: paymentId,
      reason: 'requested_by_customer',
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    });
    expect(fake.requests().at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/refunds',
      idempotencyKey: 'refund:full:1',
      status: 200,
    });
    // A refund leaves the intent itself as it was: Stripe records refunds on the charge.
    expect(fake.paymentIntent(paymentId)).toMatchObject({ status: 'succeeded', amount_received: 4000 });

    const err = await rejection(
      provider.refund({ paymentId, amountMinor: 1, idempotencyKey: 'refund:full:2' }),
    );
    expect(err.code).toBe('charge_already_refunded');
    expect(fake.refundedAmount(paymentId)).toBe(4000);
  });

  it('adds partial refunds up and refuses one above what remains', async () => {
    const paymentId = await captured(4000);
    const first = await provider.refund({ paymentId, amountMinor: 1500, idempotencyKey: 'refund:part:1' });
    const second = await provider.refund({ paymentId, amountMinor: 1000, idempotencyKey: 'refund:part:2' });
    expect(second.refundId).not.toBe(first.refundId);
    expect(fake.refundedAmount(paymentId)).toBe(2500);

    const err = await rejection(
      provider.refund({ paymentId, amountMinor: 1501, idempotencyKey: 'refund:part:3' }),
    );
    expect(err.code).toBe('amount_too_large');
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/unrefunded amount on charge \(1500\)/);
    expect(fake.refundedAmount(paymentId)).toBe(2500);
    expect(fake.listRefunds().map((r) => r.amount)).toEqual([1500, 1000]);

    // Exactly the remainder is still refundable.
    await expect(
      provider.refund({ paymentId, amountMinor: 1500, idempotencyKey: 'refund:part:4' }),
    ).resolves.toMatchObject({ amountRefundedMinor: 1500, status: 'succeeded' });
    expect(fake.refundedAmount(paymentId)).toBe(4000);
  });

  it('refuses to refund a hold that was not captured, or was canceled', async () => {
    const held = await authorized();
    const uncaptured = await rejection(
      provider.refund({ paymentId: held, amountMinor: 100, idempotencyKey: 'refund:held' }),
    );
    expect(uncaptured.code).toBe('charge_not_refundable');
    expect(uncaptured.statusCode).toBe(400);
    expect(fake.paymentIntent(held)).toMatchObject({ status: 'requires_capture', amount_capturable: 5000 });

    const canceled = await authorized();
    await provider.cancel({ paymentId: canceled, idempotencyKey: 'cancel:before-refund' });
    const err = await rejection(
      provider.refund({ paymentId: canceled, amountMinor: 100, idempotencyKey: 'refund:canceled' }),
    );
    expect(err.code).toBe('charge_not_refundable');
    expect(fake.listRefunds()).toHaveLength(0);
  });

  it('refuses to refund an unknown payment', async () => {
    const err = await rejection(
      provider.refund({ paymentId: 'pi_nope', amountMinor: 1, idempotencyKey: 'refund:unknown' }),
    );
    expect(err.code).toBe('resource_missing');
    expect(err.statusCode).toBe(404);
  });

  it('rejects a zero or fractional refund and an unknown reason before calling Stripe', async () => {
    const paymentId = await captured(4000);
    const sent = fake.requests().length;
    for (const amountMinor of [0, 12.5]) {
      const err = await rejection(provider.refund({ paymentId, amountMinor, idempotencyKey: 'refund:bad' }));
      expect(err.code).toBe('invalid_amount');
    }
    const reason = 'changed_my_mind' as unknown as 'duplicate';
    const err = await rejection(
      provider.refund({ paymentId, amountMinor: 100, idempotencyKey: 'refund:bad', reason }),
    );
    expect(err.code).toBe('invalid_request');
    expect(fake.requests()).toHaveLength(sent);
  });

  it('returns the same refund for a retry with the same key, refunding once', async () => {
    const paymentId = await captured(4000);
    const request = { paymentId, amountMinor: 4000, idempotencyKey: 'refund:retry' };
    const first = await provider.refund(request);
    // Without the replay this would be refused: the payment is fully refunded by now.
    const again = await provider.refund(request);
    expect(again).toEqual(first);
    expect(fake.listRefunds()).toHaveLength(1);
    expect(fake.refundedAmount(paymentId)).toBe(4000);
    expect(fake.requests().at(-1)).toMatchObject({ path: '/v1/refunds', replayed: true });
  });

  it('refunds once when the response was lost to a timeout and the refund is retried', async () => {
    const impatient = createStripeProvider(
      createStripeClient({ secretKey, apiBase: fake.url, timeoutMs: 300 }),
      { logger: quiet },
    );
    const paymentId = await captured(4000);
    fake.failNext({ pathPrefix: '/v1/refunds', status: 200, delayMs: 1500 });
    const request = { paymentId, amountMinor: 2500, idempotencyKey: 'refund:lost' };
    const err = await transientFailure(impatient.refund(request));
    expect(err.message).toMatch(/timeout/i);
    expect(fake.refundedAmount(paymentId)).toBe(2500);

    const retried = await impatient.refund(request);
    expect(retried).toMatchObject({ paymentId, amountRefundedMinor: 2500, status: 'succeeded' });
    expect(fake.listRefunds()).toEqual([expect.objectContaining({ id: retried.refundId })]);
    expect(fake.requests().at(-1)?.replayed).toBe(true);
  });

  it('turns a 500 on refund into a plain retryable Error that refunded nothing', async () => {
    const paymentId = await captured(4000);
    fake.failNext({ method: 'POST', pathPrefix: '/v1/refunds', status: 500 });
    const request = { paymentId, amountMinor: 100, idempotencyKey: 'refund:500' };
    await transientFailure(provider.refund(request));
    expect(fake.listRefunds()).toHaveLength(0);
    await expect(provider.refund(request)).resolves.toMatchObject({ amountRefundedMinor: 100 });
  });
});

describe('transfers to connected accounts', () => {
  const transfer = (overrides: Partial<TransferRequest> = {}): TransferRequest => ({
    destinationAccountId: 'acct_1OwnerTest',
    amountMinor: 2730,
    currency: 'EUR',
    idempotencyKey: 'payout:rp_test:2026-07',
    description: 'Revenue share 2026-07',
    metadata: { party_id: 'rp_test', period: '2026-07' },
    ...overrides,
  });

  it('transfers to the connected account with our key and metadata', async () => {
    const result = await provider.transfer(transfer());
    expect(result).toEqual({ transferId: expect.stringMatching(/^tr_/), amountMinor: 2730 });
    expect(fake.transfer(result.transferId)).toEqual({
      id: result.transferId,
      object: 'transfer',
      amount: 2730,
      amount_reversed: 0,
      balance_transaction: expect.stringMatching(/^txn_/),
      created: expect.any(Number),
      currency: 'eur',
      description: 'Revenue share 2026-07',
      destination: 'acct_1OwnerTest',
      destination_payment: expect.stringMatching(/^py_/),
      livemode: false,
      metadata: { party_id: 'rp_test', period: '2026-07' },
      reversals: {
        object: 'list',
        data: [],
        has_more: false,
        total_count: 0,
        url: `/v1/transfers/${result.transferId}/reversals`,
      },
      reversed: false,
      source_transaction: null,
      source_type: 'card',
      transfer_group: null,
    });
    expect(fake.requests().at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/transfers',
      idempotencyKey: 'payout:rp_test:2026-07',
      status: 200,
    });
  });

  it('returns the same transfer for a retry with the same key, transferring once', async () => {
    const first = await provider.transfer(transfer());
    const again = await provider.transfer(transfer());
    expect(again).toEqual(first);
    expect(fake.listTransfers()).toHaveLength(1);
    expect(fake.requests().at(-1)).toMatchObject({ path: '/v1/transfers', replayed: true });
  });

  it('transfers once when the response was lost to a timeout and the transfer is retried', async () => {
    const impatient = createStripeProvider(
      createStripeClient({ secretKey, apiBase: fake.url, timeoutMs: 300 }),
      { logger: quiet },
    );
    fake.failNext({ pathPrefix: '/v1/transfers', status: 200, delayMs: 1500 });
    const err = await transientFailure(impatient.transfer(transfer()));
    expect(err.message).toMatch(/timeout/i);
    expect(fake.listTransfers()).toHaveLength(1);

    const retried = await impatient.transfer(transfer());
    expect(fake.listTransfers()).toEqual([expect.objectContaining({ id: retried.transferId, amount: 2730 })]);
    expect(fake.requests().at(-1)?.replayed).toBe(true);
  });

  it('refuses an unknown destination as PaymentRejectedError, transferring nothing', async () => {
    const err = await rejection(provider.transfer(transfer({ destinationAccountId: 'ba_not_an_account' })));
    expect(err.code).toBe('resource_missing');
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/No such destination/);
    expect(fake.listTransfers()).toHaveLength(0);
  });

  it('rejects a zero, negative or fractional amount and a missing destination before calling Stripe', async () => {
    for (const amountMinor of [0, -100, 12.5]) {
      const err = await rejection(provider.transfer(transfer({ amountMinor })));
      expect(err.code).toBe('invalid_amount');
    }
    const err = await rejection(provider.transfer(transfer({ destinationAccountId: '' })));
    expect(err.code).toBe('invalid_request');
    expect(fake.requests()).toHaveLength(0);
  });

  it('turns a 500 on transfer into a plain retryable Error that transferred nothing', async () => {
    fake.failNext({ method: 'POST', pathPrefix: '/v1/transfers', status: 500 });
    await transientFailure(provider.transfer(transfer()));
    expect(fake.listTransfers()).toHaveLength(0);
    await expect(provider.transfer(transfer())).resolves.toMatchObject({ amountMinor: 2730 });
  });
});

describe('declines', () => {
  it('returns a generic decline as an outcome, not an error', async () => {
    const result = await provider.authorize(authorizeRequest({ paymentMethodId: 'pm_card_chargeDeclined' }));
    expect(result).toEqual({
      outcome: 'declined',
      paymentId: expect.stringMatching(/^pi_/),
      code: 'generic_decline',
      message: expect.any(String),
    });
    if (result.outcome !== 'declined' || !result.paymentId) return;
    expect(fake.paymentIntent(result.paymentId)).toMatchObject({
      status: 'requires_payment_method',
      amount_capturable: 0,
      last_payment_error: { code: 'card_declined', decline_code: 'generic_decline' },
    });
  });

  it('reports the decline reason', async () => {
    const result = await provider.authorize(
      authorizeRequest({ paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds' }),
    );
    expect(result).toMatchObject({ outcome: 'declined', code: 'insufficient_funds' });
  });

  it('declines a card that needs authentication, since off-session nobody can authenticate', async () => {
    const result = await provider.authorize(
      authorizeRequest({ paymentMethodId: 'pm_card_authenticationRequired' }),
    );
    expect(result).toMatchObject({ outcome: 'declined', code: 'authentication_required' });
  });
});

describe('idempotency', () => {
  it('authorizing twice with the same key gives the same payment and one intent', async () => {
    const request = authorizeRequest({ idempotencyKey: 'authorize:ses_twice' });
    const first = await provider.authorize(request);
    const second = await provider.authorize(request);
    expect(first.outcome).toBe('authorized');
    expect(second).toEqual(first);
    expect(fake.listPaymentIntents()).toHaveLength(1);
    expect(fake.requests().map((r) => r.replayed)).toEqual([false, true]);
  });

  it('replays a decline too, without a second attempt on the card', async () => {
    const request = authorizeRequest({ paymentMethodId: 'pm_card_visa_chargeDeclined' });
    const first = await provider.authorize(request);
    const second = await provider.authorize(request);
    expect(first.outcome).toBe('declined');
    expect(second).toEqual(first);
    expect(fake.listPaymentIntents()).toHaveLength(1);
  });

  it('rejects reusing a key for a different request', async () => {
    await authorized({ idempotencyKey: 'authorize:reused', amountMinor: 5000 });
    const err = await rejection(
      provider.authorize(authorizeRequest({ idempotencyKey: 'authorize:reused', amountMinor: 6000 })),
    );
    expect(err.code).toBe('idempotency_error');
    expect(fake.listPaymentIntents()).toHaveLength(1);
  });

  it('replays a capture retried with the same key instead of failing on the captured state', async () => {
    const paymentId = await authorized();
    const first = await provider.capture({ paymentId, amountMinor: 700, idempotencyKey: 'capture:retry' });
    const again = await provider.capture({ paymentId, amountMinor: 700, idempotencyKey: 'capture:retry' });
    expect(again).toEqual(first);
    expect(fake.requests().at(-1)?.replayed).toBe(true);
  });
});

describe('transient failures', () => {
  it('turns a 500 into a plain retryable Error, and the retry with the same key succeeds', async () => {
    fake.failNext({ method: 'POST', pathPrefix: '/v1/payment_intents', status: 500 });
    const request = authorizeRequest();
    const err = await transientFailure(provider.authorize(request));
    expect(err.message).toMatch(/HTTP 500/);
    expect(fake.listPaymentIntents()).toHaveLength(0);

    const retried = await provider.authorize(request);
    expect(retried.outcome).toBe('authorized');
    expect(fake.listPaymentIntents()).toHaveLength(1);
  });

  it('turns 429 throttling into a plain retryable Error', async () => {
    fake.failNext({ status: 429, code: 'rate_limit', message: 'Too many requests' });
    await transientFailure(provider.authorize(authorizeRequest()));
  });

  it('makes the SDK not retry on its own, leaving retries to Temporal', async () => {
    fake.failNext({ status: 503, count: 2 });
    await transientFailure(provider.authorize(authorizeRequest()));
    expect(fake.requests()).toHaveLength(1);
  });

  it('recovers when Stripe acted but the response was lost to a timeout', async () => {
    const impatient = createStripeProvider(
      createStripeClient({ secretKey, apiBase: fake.url, timeoutMs: 300 }),
      {
        logger: quiet,
      },
    );
    const paymentId = await authorized();
    fake.failNext({ pathPrefix: `/v1/payment_intents/${paymentId}/capture`, status: 200, delayMs: 1500 });
    const capture = { paymentId, amountMinor: 2500, idempotencyKey: 'capture:lost' };
    const err = await transientFailure(impatient.capture(capture));
    expect(err.message).toMatch(/timeout/i);
    expect(fake.paymentIntent(paymentId)?.status).toBe('succeeded');

    await expect(impatient.capture(capture)).resolves.toEqual({
      paymentId,
      amountCapturedMinor: 2500,
      amountCapturableMinor: 0,
      status: 'captured',
    });
    expect(fake.requests().at(-1)?.replayed).toBe(true);
  });

  it('turns a refused connection into a plain retryable Error', async () => {
    const other = await startFakeStripe({ logger: quiet });
    const url = other.url;
    await other.close();
    const offline = createStripeProvider(createStripeClient({ secretKey, apiBase: url }), { logger: quiet });
    await transientFailure(offline.authorize(authorizeRequest()));
  });
});

describe('the fake over raw HTTP', () => {
  const auth = { Authorization: `Bearer ${secretKey}` };
  const form = { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' };

  async function call(path: string, init: RequestInit = {}) {
    const res = await fetch(`${fake.url}${path}`, init);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  function createBody(extra = ''): string {
    return `amount=1000&currency=usd&confirm=true&capture_method=manual&payment_method=pm_card_visa${extra}`;
  }

  it('refuses requests without a secret key', async () => {
    const missing = await call('/v1/payment_intents');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: expect.objectContaining({ type: 'invalid_request_error' }) });

    const publishable = await call('/v1/payment_intents', {
      headers: { Authorization: 'Bearer pk_test_123' },
    });
    expect(publishable.status).toBe(401);
  });

  it('makes the SDK raise an authentication refusal for a non-secret key', async () => {
    const wrongKey = createStripeProvider(
      createStripeClient({ secretKey: 'rk_test_123', apiBase: fake.url }),
      {
        logger: quiet,
      },
    );
    const err = await rejection(wrongKey.authorize(authorizeRequest()));
    expect(err.statusCode).toBe(401);
  });

  it('answers unknown routes with a 404 in Stripe error shape', async () => {
    const res = await call('/v1/charges_nope', { headers: auth });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: expect.stringContaining('/v1/charges_nope'),
      },
    });
  });

  it('answers a replayed request with Idempotent-Replayed: true', async () => {
    const init = { method: 'POST', headers: { ...form, 'Idempotency-Key': 'raw-1' }, body: createBody() };
    const first = await call('/v1/payment_intents', init);
    const second = await call('/v1/payment_intents', init);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.id).toBe(first.body.id);
  });

  it('compares idempotent bodies by parameters, not by their order', async () => {
    const headers = { ...form, 'Idempotency-Key': 'raw-order' };
    const first = await call('/v1/payment_intents', {
      method: 'POST',
      headers,
      body: 'amount=1000&currency=usd',
    });
    const second = await call('/v1/payment_intents', {
      method: 'POST',
      headers,
      body: 'currency=usd&amount=1000',
    });
    expect(second.body.id).toBe(first.body.id);
  });

  it('does not store a validation failure under the key, so the key can be used with fixed params', async () => {
    const headers = { ...form, 'Idempotency-Key': 'raw-fix' };
    const bad = await call('/v1/payment_intents', { method: 'POST', headers, body: 'currency=usd' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'parameter_missing', param: 'amount' });
    const good = await call('/v1/payment_intents', { method: 'POST', headers, body: createBody() });
    expect(good.status).toBe(200);
  });

  it.each([
    ['a missing currency', 'amount=100', 'currency'],
    ['a zero amount', 'amount=0&currency=usd', 'amount'],
    ['a fractional amount', 'amount=10.5&currency=usd', 'amount'],
    ['an unknown parameter', 'amount=100&currency=usd&amuont=1', 'amuont'],
    ['a value that is also a hash', 'amount=100&currency=usd&metadata=x&metadata[a]=b', 'metadata[a]'],
    ['a duplicate parameter', 'amount=100&amount=200&currency=usd', 'amount'],
    ['a bad boolean', 'amount=100&currency=usd&confirm=yes', 'confirm'],
    [
      'an unknown nested parameter',
      'amount=100&currency=usd&automatic_payment_methods[enabld]=true',
      'automatic_payment_methods[enabld]',
    ],
  ])('answers %s with a 400 naming the parameter', async (_label, body, param) => {
    const res = await call('/v1/payment_intents', { method: 'POST', headers: form, body });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(fake.listPaymentIntents()).toHaveLength(0);
  });

  it.each([
    ['broken percent-encoding', form, 'amount=%E0%A4%A&currency=usd'],
    ['an unparseable parameter name', form, 'amount]=1&currency=usd'],
    ['nesting that is too deep', form, 'metadata[a][b][c][d][e][f]=1&amount=1&currency=usd'],
    ['a JSON body', { ...auth, 'Content-Type': 'application/json' }, '{"amount":100,"currency":"usd"}'],
  ])('answers %s with a 400 and keeps serving', async (_label, headers, body) => {
    const res = await call('/v1/payment_intents', { method: 'POST', headers, body });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.any(String) });
    expect((await call('/v1/payment_intents', { headers: auth })).status).toBe(200);
  });

  it('keeps metadata keys like __proto__ as plain data', async () => {
    const body = `${createBody()}&metadata[__proto__]=polluted&metadata[constructor]=x`;
    const res = await call('/v1/payment_intents', { method: 'POST', headers: form, body });
    expect(res.status).toBe(200);
    expect(Object.getOwnPropertyDescriptor(res.body.metadata, '__proto__')?.value).toBe('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses an oversized body without falling over', async () => {
    const body = `amount=1&currency=usd&description=${'x'.repeat(1024 * 1024)}`;
    const res = await fetch(`${fake.url}/v1/payment_intents`, { method: 'POST', headers: form, body }).catch(
      (e: unknown) => e,
    );
    if (res instanceof Response) expect(res.status).toBe(413);
    expect((await call('/v1/payment_intents', { headers: auth })).status).toBe(200);
  });

  it('lists intents newest first with cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await call('/v1/payment_intents', { method: 'POST', headers: form, body: createBody() });
      ids.unshift(res.body.id as string);
    }
    const first = await call('/v1/payment_intents?limit=2', { headers: auth });
    expect(first.body).toMatchObject({ object: 'list', url: '/v1/payment_intents', has_more: true });
    const firstIds = (first.body.data as Array<{ id: string }>).map((pi) => pi.id);
    expect(firstIds).toEqual(ids.slice(0, 2));

    const rest = await call(`/v1/payment_intents?limit=10&starting_after=${firstIds[1]}`, { headers: auth });
    expect((rest.body.data as Array<{ id: string }>).map((pi) => pi.id)).toEqual(ids.slice(2));
    expect(rest.body.has_more).toBe(false);

    const bad = await call('/v1/payment_intents?limit=1000', { headers: auth });
    expect(bad.status).toBe(400);
  });

  it('retrieves an intent and 404s an unknown one', async () => {
    const created = await call('/v1/payment_intents', { method: 'POST', headers: form, body: createBody() });
    const got = await call(`/v1/payment_intents/${created.body.id as string}`, { headers: auth });
    expect(got.body).toEqual(created.body);
    const missing = await call('/v1/payment_intents/pi_missing', { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'resource_missing', param: 'intent' });
  });

  describe('refunds', () => {
    async function capturedIntent(amount: number): Promise<string> {
      const created = await call('/v1/payment_intents', {
        method: 'POST',
        headers: form,
        body: createBody(),
      });
      const id = created.body.id as string;
      const capture = await call(`/v1/payment_intents/${id}/capture`, {
        method: 'POST',
        headers: form,
        body: `amount_to_capture=${amount}`,
      });
      expect(capture.body.status).toBe('succeeded');
      return id;
    }

    it('refunds what remains when no amount is given, and retrieves the refund', async () => {
      const intent = await capturedIntent(800);
      await call('/v1/refunds', {
        method: 'POST',
        headers: form,
        body: `payment_intent=${intent}&amount=300`,
      });
      const rest = await call('/v1/refunds', {
        method: 'POST',
        headers: form,
        body: `payment_intent=${intent}&reason=duplicate&metadata[case]=7`,
      });
      expect(rest.status).toBe(200);
      expect(rest.body).toMatchObject({
        id: expect.stringMatching(/^re_/),
        object: 'refund',
        amount: 500,
        currency: 'usd',
        payment_intent: intent,
        status: 'succeeded',
        reason: 'duplicate',
        metadata: { case: '7' },
        created: expect.any(Number),
      });
      const got = await call(`/v1/refunds/${rest.body.id as string}`, { headers: auth });
      expect(got.body).toEqual(rest.body);

      const missing = await call('/v1/refunds/re_missing', { headers: auth });
      expect(missing.status).toBe(404);
      expect(missing.body.error).toMatchObject({ code: 'resource_missing', param: 'refund' });
    });

    it('answers a replayed refund with Idempotent-Replayed: true and the same refund', async () => {
      const intent = await capturedIntent(800);
      const init = {
        method: 'POST',
        headers: { ...form, 'Idempotency-Key': 'raw-refund' },
        body: `payment_intent=${intent}&amount=800`,
      };
      const first = await call('/v1/refunds', init);
      const second = await call('/v1/refunds', init);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(fake.listRefunds()).toHaveLength(1);
    });

    it.each([
      ['a missing payment_intent', 'amount=100', 'payment_intent', 'parameter_missing'],
      ['an unknown parameter', 'payment_intent=pi_x&amonut=1', 'amonut', 'parameter_unknown'],
      ['a refund by charge, which the fake does not model', 'charge=ch_x', 'charge', 'parameter_unknown'],
      ['a zero amount', 'payment_intent=pi_x&amount=0', 'amount', 'amount_too_small'],
      ['an unknown reason', 'payment_intent=pi_x&reason=expired_uncaptured_charge', 'reason', undefined],
    ])('answers %s with a 400 naming the parameter', async (_label, body, param, code) => {
      const res = await call('/v1/refunds', { method: 'POST', headers: form, body });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
      if (code) expect(res.body.error).toMatchObject({ code });
      expect(fake.listRefunds()).toHaveLength(0);
    });
  });

  describe('transfers', () => {
    it('creates and retrieves a transfer, and 404s an unknown one', async () => {
      const created = await call('/v1/transfers', {
        method: 'POST',
        headers: form,
        body: 'amount=1575&currency=EUR&destination=acct_1Owner&metadata[period]=2026-09&transfer_group=g1',
      });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^tr_/),
        object: 'transfer',
        amount: 1575,
        currency: 'eur',
        destination: 'acct_1Owner',
        metadata: { period: '2026-09' },
        transfer_group: 'g1',
      });
      const got = await call(`/v1/transfers/${created.body.id as string}`, { headers: auth });
      expect(got.body).toEqual(created.body);

      const missing = await call('/v1/transfers/tr_missing', { headers: auth });
      expect(missing.status).toBe(404);
      expect(missing.body.error).toMatchObject({ code: 'resource_missing', param: 'transfer' });
    });

    it('answers a replayed transfer with Idempotent-Replayed: true and the same transfer', async () => {
      const init = {
        method: 'POST',
        headers: { ...form, 'Idempotency-Key': 'raw-transfer' },
        body: 'amount=100&currency=eur&destination=acct_1Owner',
      };
      const first = await call('/v1/transfers', init);
      const second = await call('/v1/transfers', init);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(fake.listTransfers()).toHaveLength(1);
    });

    it.each([
      ['a missing amount', 'currency=eur&destination=acct_1', 'amount', 'parameter_missing'],
      ['a zero amount', 'amount=0&currency=eur&destination=acct_1', 'amount', 'amount_too_small'],
      ['a negative amount', 'amount=-5&currency=eur&destination=acct_1', 'amount', 'amount_too_small'],
      ['a missing destination', 'amount=100&currency=eur', 'destination', 'parameter_missing'],
      [
        'a destination that is no account',
        'amount=100&currency=eur&destination=cus_1',
        'destination',
        'resource_missing',
      ],
      ['a missing currency', 'amount=100&destination=acct_1', 'currency', 'parameter_missing'],
      [
        'an unknown parameter',
        'amount=100&currency=eur&destination=acct_1&destinaton=x',
        'destinaton',
        'parameter_unknown',
      ],
    ])('answers %s with a 400 naming the parameter', async (_label, body, param, code) => {
      const res = await call('/v1/transfers', { method: 'POST', headers: form, body });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param, code });
      expect(fake.listTransfers()).toHaveLength(0);
    });
  });

  it('applies failure rules only to matching requests, as many times as asked', async () => {
    fake.failNext({ method: 'GET', status: 502, count: 2 });
    expect(
      (await call('/v1/payment_intents', { method: 'POST', headers: form, body: createBody() })).status,
    ).toBe(200);
    expect((await call('/v1/payment_intents', { headers: auth })).status).toBe(502);
    const second = await call('/v1/payment_intents', { headers: auth });
    expect(second.status).toBe(502);
    expect(second.body.error).toMatchObject({ type: 'api_error' });
    expect((await call('/v1/payment_intents', { headers: auth })).status).toBe(200);
  });
});
