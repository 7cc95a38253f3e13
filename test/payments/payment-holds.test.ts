// The hold's life through the port, against the stateful fake over real HTTP with the real `stripe` SDK:
// authorize with its options, capabilities and the capture deadline, increments and their limits, captures
// (partial, in parts, above the hold), a hold that expires, and transient failures on each call.
import type Stripe from 'stripe';
import { createLogger } from '../../config/logger';
import { type FakeStripe, startFakeStripe } from '../../payments/fake-stripe';
import {
  AmountTooLargeError,
  type AuthorizeRequest,
  HoldGoneError,
  type PaymentProvider,
  PaymentRejectedError,
} from '../../payments/port';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';
import { cardSummaryOf } from '../../payments/stripe-holds';

const quiet = createLogger({}, 'error');
const secretKey = 'sk_test_holds_123456789';
const DAY_MS = 24 * 3600 * 1000;

let fake: FakeStripe;
let provider: PaymentProvider;

beforeAll(async () => {
  fake = await startFakeStripe({ logger: quiet });
  provider = createStripeProvider(createStripeClient({ secretKey, apiBase: fake.url }), { logger: quiet });
});

afterAll(() => fake.close());

beforeEach(() => fake.reset());

let seq = 0;
function request(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  seq += 1;
  return {
    amountMinor: 5000,
    currency: 'EUR',
    paymentMethodId: 'pm_card_visa',
    customerId: 'cus_driver7',
    idempotencyKey: `authorize:ses_hold${seq}`,
    ...overrides,
  };
}

async function hold(overrides: Partial<AuthorizeRequest> = {}) {
  const result = await provider.authorize(request(overrides));
  if (result.outcome !== 'authorized') throw new Error(`expected a hold, got ${JSON.stringify(result)}`);
  return result;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

async function transient(promise: Promise<unknown>): Promise<Error> {
  const err = await failure(promise);
  expect(err).not.toBeInstanceOf(PaymentRejectedError);
  return err;
}

const chargeOf = (paymentId: string) => fake.charge(fake.paymentIntent(paymentId)?.latest_charge ?? '');

describe('authorize', () => {
  it('asks for a manual-capture hold that can grow, saving the card for off-session charges', async () => {
    const auth = await hold();
    expect(fake.paymentIntent(auth.paymentId)).toMatchObject({
      status: 'requires_capture',
      capture_method: 'manual',
      customer: 'cus_driver7',
      setup_future_usage: 'off_session',
      payment_method_options: { card: { request_incremental_authorization: 'if_available' } },
    });
    expect(auth).toMatchObject({ incrementalAuthorization: true, multicapture: false });
  });

  it('reports the capture deadline the charge carries, not an assumed 7 days', async () => {
    fake.setHoldLifetime(2 * DAY_MS);
    const before = Date.now();
    const auth = await hold();
    const card = chargeOf(auth.paymentId)?.payment_method_details.card;
    expect(auth.captureBefore).toBe(new Date((card?.capture_before ?? 0) * 1000).toISOString());
    const deadline = Date.parse(auth.captureBefore ?? '');
    expect(deadline).toBeGreaterThanOrEqual(before + 2 * DAY_MS - 1000);
    expect(deadline).toBeLessThan(before + 3 * DAY_MS);

    fake.setHoldLifetime(undefined);
    const usual = await hold();
    expect(Date.parse(usual.captureBefore ?? '')).toBeGreaterThanOrEqual(before + 7 * DAY_MS - 1000);
  });

  it('stays merchant-initiated when nothing is saved: no customer, or saving turned off', async () => {
    const anonymous = await hold({ customerId: undefined });
    const unsaved = await hold({ saveForOffSession: false });
    for (const { paymentId } of [anonymous, unsaved]) {
      expect(fake.paymentIntent(paymentId)?.setup_future_usage).toBeNull();
    }
  });

  it('reports no incremental authorization when the card does not offer it or it was not asked for', async () => {
    const card = await hold({ paymentMethodId: 'pm_card_visa_no_increment' });
    const notAsked = await hold({ incrementalAuthorization: false });
    expect(card.incrementalAuthorization).toBe(false);
    expect(notAsked.incrementalAuthorization).toBe(false);
    expect(fake.paymentIntent(notAsked.paymentId)?.payment_method_options.card).not.toHaveProperty(
      'request_incremental_authorization',
    );
  });

  it('reports multicapture when asked for and offered', async () => {
    expect((await hold({ multicapture: true })).multicapture).toBe(true);
    const refused = await hold({ multicapture: true, paymentMethodId: 'pm_card_visa_no_increment' });
    expect(refused.multicapture).toBe(false);
  });

  it("names the card that holds the money (brand, last four digits), as Stripe's test cards report it", async () => {
    const cards: [string, { brand: string; last4: string }][] = [
      ['pm_card_visa', { brand: 'visa', last4: '4242' }],
      ['pm_card_visa_debit', { brand: 'visa', last4: '5556' }],
      ['pm_card_mastercard', { brand: 'mastercard', last4: '4444' }],
      ['pm_card_mastercard_debit', { brand: 'mastercard', last4: '8210' }],
      ['pm_card_mastercard_prepaid', { brand: 'mastercard', last4: '5100' }],
      ['pm_card_amex', { brand: 'amex', last4: '0005' }],
      ['pm_card_discover', { brand: 'discover', last4: '1117' }],
      ['pm_card_diners', { brand: 'diners', last4: '0004' }],
      ['pm_card_jcb', { brand: 'jcb', last4: '0505' }],
      ['pm_card_unionpay', { brand: 'unionpay', last4: '0005' }],
    ];
    for (const [paymentMethodId, card] of cards) {
      const auth = await hold({ paymentMethodId });
      expect({ paymentMethodId, card: auth.card }).toEqual({ paymentMethodId, card });
      expect(chargeOf(auth.paymentId)?.payment_method_details.card).toMatchObject(card);
    }
  });

  it('leaves the card out when the charge does not report one', () => {
    const intent = (latest_charge: unknown) =>
      ({ id: 'pi_1', latest_charge }) as unknown as Stripe.PaymentIntent;
    // Not expanded, or a charge made with something other than a card: nothing for the receipt to name.
    expect(cardSummaryOf(intent('ch_1'))).toBeUndefined();
    expect(cardSummaryOf(intent(null))).toBeUndefined();
    expect(
      cardSummaryOf(intent({ id: 'ch_1', payment_method_details: { type: 'sepa_debit' } })),
    ).toBeUndefined();
    expect(
      cardSummaryOf(
        intent({ id: 'ch_1', payment_method_details: { card: { brand: 'visa', last4: '4242' } } }),
      ),
    ).toEqual({ brand: 'visa', last4: '4242' });
  });

  it('declines a card that wants 3-D Secure, which nobody can complete here', async () => {
    const result = await provider.authorize(request({ paymentMethodId: 'pm_card_authenticationRequired' }));
    expect(result).toMatchObject({ outcome: 'declined', code: 'authentication_required' });
  });
});

describe('capabilities', () => {
  it('without a payment: what the adapter can ask for, and no deadline', async () => {
    await expect(provider.capabilities()).resolves.toEqual({
      incrementalAuthorization: true,
      multicapture: true,
      overcapture: false,
      overcaptureMaxMinor: null,
      captureBefore: null,
      maxIncrementAttempts: 10,
    });
    expect(fake.requests()).toHaveLength(0);
  });

  it('for a payment: what the hold got, its deadline and amounts, read from the provider', async () => {
    const auth = await hold({ multicapture: true });
    await expect(provider.capabilities(auth.paymentId)).resolves.toEqual({
      incrementalAuthorization: true,
      multicapture: true,
      overcapture: false,
      overcaptureMaxMinor: null,
      captureBefore: auth.captureBefore,
      maxIncrementAttempts: 10,
      payment: {
        status: 'authorized',
        currency: 'EUR',
        amountAuthorizedMinor: 5000,
        amountCapturableMinor: 5000,
        amountCapturedMinor: 0,
      },
    });
    expect(fake.requests().at(-1)).toMatchObject({ method: 'GET', status: 200 });

    await provider.capture({ paymentId: auth.paymentId, amountMinor: 1200, idempotencyKey: 'cap:caps' });
    await expect(provider.capabilities(auth.paymentId)).resolves.toMatchObject({
      incrementalAuthorization: false,
      multicapture: false,
      payment: { status: 'captured', amountCapturableMinor: 0, amountCapturedMinor: 1200 },
    });
  });

  it('for a hold that cannot grow, and for a released one', async () => {
    const fixed = await hold({ paymentMethodId: 'pm_card_visa_no_increment' });
    await expect(provider.capabilities(fixed.paymentId)).resolves.toMatchObject({
      incrementalAuthorization: false,
      payment: { status: 'authorized' },
    });
    await provider.release({ paymentId: fixed.paymentId, idempotencyKey: 'release:caps' });
    await expect(provider.capabilities(fixed.paymentId)).resolves.toMatchObject({
      payment: { status: 'released', amountCapturableMinor: 0 },
    });
  });

  it('refuses an unknown payment', async () => {
    const err = await failure(provider.capabilities('pi_unknown'));
    expect(err).toBeInstanceOf(PaymentRejectedError);
    expect(err).toMatchObject({ code: 'resource_missing', statusCode: 404 });
  });
});

describe('increment', () => {
  it('raises the hold to the new total, which can then be captured', async () => {
    const { paymentId } = await hold({ amountMinor: 5000 });
    const result = await provider.increment({
      paymentId,
      newAmountMinor: 8000,
      idempotencyKey: 'increment:1',
      metadata: { step: '1' },
    });
    expect(result).toEqual({ outcome: 'incremented', paymentId, amountCapturableMinor: 8000 });
    expect(fake.paymentIntent(paymentId)).toMatchObject({ amount: 8000, amount_capturable: 8000 });
    expect(chargeOf(paymentId)?.amount).toBe(8000);
    expect(fake.requests().at(-1)).toMatchObject({
      path: `/v1/payment_intents/${paymentId}/increment_authorization`,
      idempotencyKey: 'increment:1',
    });
    expect(fake.events().map((e) => e.event.type)).toContain('payment_intent.amount_capturable_updated');

    await expect(
      provider.capture({ paymentId, amountMinor: 7500, idempotencyKey: 'capture:after-increment' }),
    ).resolves.toMatchObject({ amountCapturedMinor: 7500 });
  });

  it('returns a decline from the test card that declines increments, leaving the hold as it was', async () => {
    const { paymentId } = await hold({ paymentMethodId: 'pm_card_visa_increment_declined' });
    const result = await provider.increment({ paymentId, newAmountMinor: 9000, idempotencyKey: 'inc:d1' });
    expect(result).toEqual({ outcome: 'declined', code: 'insufficient_funds', message: expect.any(String) });
    expect(fake.paymentIntent(paymentId)).toMatchObject({
      status: 'requires_capture',
      amount: 5000,
      amount_capturable: 5000,
    });
    expect(fake.incrementAttempts(paymentId)).toBe(1);
  });

  it('returns a decline scripted for one intent only', async () => {
    const declined = await hold();
    const other = await hold();
    fake.declineNext({
      on: 'increment',
      paymentIntent: declined.paymentId,
      declineCode: 'card_velocity_exceeded',
    });
    await expect(
      provider.increment({ paymentId: other.paymentId, newAmountMinor: 6000, idempotencyKey: 'inc:o' }),
    ).resolves.toMatchObject({ outcome: 'incremented' });
    await expect(
      provider.increment({ paymentId: declined.paymentId, newAmountMinor: 6000, idempotencyKey: 'inc:d' }),
    ).resolves.toMatchObject({ outcome: 'declined', code: 'card_velocity_exceeded' });
    // The script is used up: the next attempt goes through.
    await expect(
      provider.increment({ paymentId: declined.paymentId, newAmountMinor: 6000, idempotencyKey: 'inc:d2' }),
    ).resolves.toMatchObject({ outcome: 'incremented', amountCapturableMinor: 6000 });
  });

  it('is unavailable on a card that does not offer it, and on a hold that did not ask', async () => {
    for (const overrides of [
      { paymentMethodId: 'pm_card_visa_no_increment' },
      { incrementalAuthorization: false },
    ]) {
      const { paymentId } = await hold(overrides);
      const result = await provider.increment({
        paymentId,
        newAmountMinor: 7000,
        idempotencyKey: `inc:${paymentId}`,
      });
      expect(result).toMatchObject({ outcome: 'unavailable', code: expect.any(String) });
      expect(fake.paymentIntent(paymentId)).toMatchObject({ amount_capturable: 5000 });
      expect(fake.incrementAttempts(paymentId)).toBe(0);
    }
  });

  it('allows 10 attempts, declines included, and refuses the 11th', async () => {
    const { paymentId } = await hold({ amountMinor: 1000 });
    fake.declineNext({ on: 'increment', paymentIntent: paymentId, count: 3 });
    const outcomes: string[] = [];
    let total = 1000;
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      total += 100;
      const result = await provider.increment({
        paymentId,
        newAmountMinor: total,
        idempotencyKey: `inc:limit:${attempt}`,
      });
      outcomes.push(result.outcome);
      if (result.outcome === 'declined') total -= 100;
    }
    expect(outcomes).toEqual([...Array(3).fill('declined'), ...Array(7).fill('incremented')]);
    expect(fake.incrementAttempts(paymentId)).toBe(10);

    const eleventh = await provider.increment({
      paymentId,
      newAmountMinor: 9000,
      idempotencyKey: 'inc:limit:11',
    });
    expect(eleventh).toMatchObject({
      outcome: 'unavailable',
      message: expect.stringMatching(/maximum of 10/),
    });
    expect(fake.incrementAttempts(paymentId)).toBe(10);
    // The hold stands at the last granted total.
    expect(fake.paymentIntent(paymentId)).toMatchObject({
      status: 'requires_capture',
      amount_capturable: 1700,
    });
  });

  it('replays an attempt retried with the same key, without spending another attempt', async () => {
    const { paymentId } = await hold({ paymentMethodId: 'pm_card_visa_increment_declined' });
    const request = { paymentId, newAmountMinor: 6000, idempotencyKey: 'inc:replay' };
    const first = await provider.increment(request);
    const again = await provider.increment(request);
    expect(again).toEqual(first);
    expect(fake.incrementAttempts(paymentId)).toBe(1);
    expect(fake.requests().at(-1)?.replayed).toBe(true);
  });

  it('treats the same total asked again under a new key as done, but refuses a total below the hold', async () => {
    const { paymentId } = await hold({ amountMinor: 5000 });
    await provider.increment({ paymentId, newAmountMinor: 6000, idempotencyKey: 'inc:first' });
    await expect(
      provider.increment({ paymentId, newAmountMinor: 6000, idempotencyKey: 'inc:again' }),
    ).resolves.toEqual({ outcome: 'incremented', paymentId, amountCapturableMinor: 6000 });
    const err = await failure(
      provider.increment({ paymentId, newAmountMinor: 5500, idempotencyKey: 'inc:lower' }),
    );
    expect(err).toBeInstanceOf(PaymentRejectedError);
    expect(err).not.toBeInstanceOf(HoldGoneError);
  });

  it('refuses a total above what a payment may be as AmountTooLargeError', async () => {
    const { paymentId } = await hold();
    const err = await failure(
      provider.increment({ paymentId, newAmountMinor: 100_000_000, idempotencyKey: 'inc:huge' }),
    );
    expect(err).toBeInstanceOf(AmountTooLargeError);
    expect(err).toMatchObject({ code: 'amount_too_large' });
  });

  it('turns a 500 on increment into a retryable Error; the retry increments once', async () => {
    const { paymentId } = await hold();
    fake.failNext({ operation: 'increment', paymentIntent: paymentId, status: 500 });
    const request = { paymentId, newAmountMinor: 6500, idempotencyKey: 'inc:500' };
    expect((await transient(provider.increment(request))).message).toMatch(/HTTP 500/);
    expect(fake.incrementAttempts(paymentId)).toBe(0);
    await expect(provider.increment(request)).resolves.toMatchObject({ outcome: 'incremented' });
    expect(fake.incrementAttempts(paymentId)).toBe(1);
  });

  it('recovers an increment whose response was lost to a timeout', async () => {
    const impatient = createStripeProvider(
      createStripeClient({ secretKey, apiBase: fake.url, timeoutMs: 300 }),
      { logger: quiet },
    );
    const { paymentId } = await hold();
    fake.failNext({ operation: 'increment', status: 200, delayMs: 1500 });
    const request = { paymentId, newAmountMinor: 7000, idempotencyKey: 'inc:lost' };
    expect((await transient(impatient.increment(request))).message).toMatch(/timeout/i);
    await expect(impatient.increment(request)).resolves.toMatchObject({ amountCapturableMinor: 7000 });
    expect(fake.incrementAttempts(paymentId)).toBe(1);
    expect(fake.requests().at(-1)?.replayed).toBe(true);
  });
});

describe('capture', () => {
  it('captures part of the hold and releases the rest', async () => {
    const { paymentId } = await hold({ amountMinor: 5000 });
    await expect(
      provider.capture({ paymentId, amountMinor: 3210, idempotencyKey: 'cap:part' }),
    ).resolves.toEqual({
      paymentId,
      amountCapturedMinor: 3210,
      amountCapturableMinor: 0,
      status: 'captured',
    });
    expect(fake.paymentIntent(paymentId)).toMatchObject({
      status: 'succeeded',
      amount: 5000,
      amount_received: 3210,
      amount_capturable: 0,
    });
    // Nothing is left to capture: a second capture is refused, and it is not a lost hold.
    const err = await failure(provider.capture({ paymentId, amountMinor: 100, idempotencyKey: 'cap:more' }));
    expect(err).toBeInstanceOf(PaymentRejectedError);
    expect(err).not.toBeInstanceOf(HoldGoneError);
  });

  it('refuses a capture above the capturable amount as AmountTooLargeError, keeping the hold', async () => {
    const { paymentId } = await hold({ amountMinor: 5000 });
    const err = await failure(provider.capture({ paymentId, amountMinor: 5001, idempotencyKey: 'cap:big' }));
    expect(err).toBeInstanceOf(AmountTooLargeError);
    expect(err).toBeInstanceOf(PaymentRejectedError);
    expect(err).toMatchObject({ code: 'amount_too_large', statusCode: 400 });
    expect(fake.paymentIntent(paymentId)).toMatchObject({
      status: 'requires_capture',
      amount_capturable: 5000,
    });
  });

  it('captures in parts when the hold has multicapture, booking each part', async () => {
    const { paymentId } = await hold({ amountMinor: 5000, multicapture: true });
    await expect(
      provider.capture({ paymentId, amountMinor: 1000, final: false, idempotencyKey: 'cap:part1' }),
    ).resolves.toMatchObject({ amountCapturedMinor: 1000, amountCapturableMinor: 4000 });
    expect(fake.paymentIntent(paymentId)).toMatchObject({
      status: 'requires_capture',
      amount_received: 1000,
    });
    await expect(
      provider.capture({ paymentId, amountMinor: 1500, idempotencyKey: 'cap:part2' }),
    ).resolves.toMatchObject({ amountCapturedMinor: 2500, amountCapturableMinor: 0 });
    expect(fake.paymentIntent(paymentId)).toMatchObject({ status: 'succeeded', amount_received: 2500 });
    expect(chargeOf(paymentId)).toMatchObject({ amount_captured: 2500, captured: true });
    const booked = fake.listBalanceTransactions().filter((t) => t.type === 'charge');
    expect(booked.map((t) => t.amount)).toEqual([1000, 1500]);
  });

  it('refuses a non-final capture on a hold without multicapture, capturing nothing', async () => {
    const { paymentId } = await hold({ amountMinor: 5000 });
    const err = await failure(
      provider.capture({ paymentId, amountMinor: 1000, final: false, idempotencyKey: 'cap:nomulti' }),
    );
    expect(err).toBeInstanceOf(PaymentRejectedError);
    expect(err).toMatchObject({ code: 'payment_intent_invalid_parameter' });
    expect(fake.paymentIntent(paymentId)).toMatchObject({ status: 'requires_capture', amount_received: 0 });
  });

  it('turns a 503 on capture into a retryable Error; the retry captures once', async () => {
    const { paymentId } = await hold();
    fake.failNext({ operation: 'capture', paymentIntent: paymentId, status: 503 });
    const request = { paymentId, amountMinor: 4000, idempotencyKey: 'cap:503' };
    await transient(provider.capture(request));
    expect(fake.paymentIntent(paymentId)?.status).toBe('requires_capture');
    await expect(provider.capture(request)).resolves.toMatchObject({ amountCapturedMinor: 4000 });
    expect(fake.listBalanceTransactions().filter((t) => t.type === 'charge')).toHaveLength(1);
  });
});

describe('a hold that is gone', () => {
  it('fails a capture after the deadline with HoldGoneError and cancels the intent', async () => {
    const { paymentId } = await hold();
    fake.expireHold(paymentId);
    const err = await failure(provider.capture({ paymentId, amountMinor: 4000, idempotencyKey: 'cap:late' }));
    expect(err).toBeInstanceOf(HoldGoneError);
    expect(err).toBeInstanceOf(PaymentRejectedError);
    expect(err).toMatchObject({ code: 'charge_expired_for_capture', name: 'HoldGoneError' });
    expect(fake.paymentIntent(paymentId)).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'automatic',
      amount_capturable: 0,
      amount_received: 0,
    });
    const canceled = fake.events().filter((e) => e.event.type === 'payment_intent.canceled');
    expect(canceled.map((e) => (e.event.data.object as { id: string }).id)).toEqual([paymentId]);

    // Every later call on it knows the hold is gone; releasing it is already done.
    const again = await failure(
      provider.capture({ paymentId, amountMinor: 4000, idempotencyKey: 'cap:later' }),
    );
    expect(again).toBeInstanceOf(HoldGoneError);
    expect(again).toMatchObject({ code: 'payment_intent_unexpected_state' });
    const increment = provider.increment({ paymentId, newAmountMinor: 9000, idempotencyKey: 'inc:late' });
    expect(await failure(increment)).toBeInstanceOf(HoldGoneError);
    await expect(provider.release({ paymentId, idempotencyKey: 'release:late' })).resolves.toEqual({
      paymentId,
      status: 'canceled',
    });
  });

  it('expires at the deadline the hold lifetime set, as the clock passes it', async () => {
    fake.setHoldLifetime(3600_000);
    const auth = await hold();
    fake.setNow(new Date(Date.parse(auth.captureBefore ?? '') - 1000));
    await expect(provider.capabilities(auth.paymentId)).resolves.toMatchObject({
      payment: { status: 'authorized' },
    });
    fake.setNow(new Date(Date.parse(auth.captureBefore ?? '')));
    const err = await failure(
      provider.capture({ paymentId: auth.paymentId, amountMinor: 100, idempotencyKey: 'cap:clock' }),
    );
    expect(err).toBeInstanceOf(HoldGoneError);
  });

  it('fails an increment on a released hold with HoldGoneError', async () => {
    const { paymentId } = await hold();
    await provider.release({ paymentId, idempotencyKey: 'release:1' });
    // The old name still works and agrees.
    await expect(provider.cancel({ paymentId, idempotencyKey: 'cancel:1' })).resolves.toEqual({
      paymentId,
      status: 'canceled',
    });
    const err = await failure(
      provider.increment({ paymentId, newAmountMinor: 6000, idempotencyKey: 'inc:gone' }),
    );
    expect(err).toBeInstanceOf(HoldGoneError);
    expect(err).toMatchObject({ code: 'payment_intent_unexpected_state' });
  });
});

describe('idempotency keys', () => {
  it('refuses every money-moving call without our key, before anything is sent', async () => {
    const { paymentId } = await hold();
    const sent = fake.requests().length;
    const calls = [
      provider.increment({ paymentId, newAmountMinor: 6000, idempotencyKey: '' }),
      provider.capture({ paymentId, amountMinor: 100, idempotencyKey: '' }),
      provider.release({ paymentId, idempotencyKey: '' }),
      provider.authorize(request({ idempotencyKey: '' })),
      provider.increment({ paymentId, newAmountMinor: 6000, idempotencyKey: 'k'.repeat(256) }),
    ];
    for (const call of calls) {
      const err = await failure(call);
      expect(err).toBeInstanceOf(PaymentRejectedError);
      expect(err).toMatchObject({ code: 'invalid_request' });
    }
    expect(fake.requests()).toHaveLength(sent);
  });
});
