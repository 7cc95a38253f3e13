// Charging a saved card without the driver (the difference a hold could not cover), through the port against
// the stateful fake: the request Stripe gets, declines and authentication as outcomes, failure injection
// aimed at this call alone, and retries that never charge twice.
import { createLogger } from '../../config/logger';
import { type FakeStripe, startFakeStripe } from '../../payments/fake-stripe';
import {
  AmountTooLargeError,
  type OffSessionChargeRequest,
  type PaymentProvider,
  PaymentRejectedError,
} from '../../payments/port';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';

const quiet = createLogger({}, 'error');
const secretKey = 'sk_test_offsession_123456789';

let fake: FakeStripe;
let provider: PaymentProvider;

beforeAll(async () => {
  fake = await startFakeStripe({ logger: quiet });
  provider = createStripeProvider(createStripeClient({ secretKey, apiBase: fake.url }), { logger: quiet });
});

afterAll(() => fake.close());

beforeEach(() => fake.reset());

let seq = 0;
function charge(overrides: Partial<OffSessionChargeRequest> = {}): OffSessionChargeRequest {
  seq += 1;
  return {
    customerId: 'cus_driver9',
    paymentMethodId: 'pm_card_visa',
    amountMinor: 1234,
    currency: 'EUR',
    idempotencyKey: `difference:ses_off${seq}`,
    description: 'EV charging session: amount above the hold',
    metadata: { session_id: `ses_off${seq}`, kind: 'difference' },
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('chargeOffSession', () => {
  it('charges the saved card at once, off-session, under our key', async () => {
    const request = charge();
    const result = await provider.chargeOffSession(request);
    expect(result).toEqual({
      outcome: 'charged',
      paymentId: expect.stringMatching(/^pi_/),
      amountMinor: 1234,
      card: { brand: 'visa', last4: '4242' },
    });
    if (result.outcome !== 'charged') return;
    expect(fake.paymentIntent(result.paymentId)).toMatchObject({
      status: 'succeeded',
      capture_method: 'automatic',
      customer: 'cus_driver9',
      payment_method: 'pm_card_visa',
      amount_received: 1234,
      setup_future_usage: null,
      metadata: { kind: 'difference' },
    });
    expect(fake.requests()).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/payment_intents',
        idempotencyKey: request.idempotencyKey,
        // The log tells an off-session charge from a hold, although both are POST /v1/payment_intents.
        operation: 'off_session',
      }),
    ]);
    expect(fake.events().map((e) => e.event.type)).toEqual(['payment_intent.succeeded']);
  });

  it('names the card charged (brand, last four digits) for the receipt, read from the charge', async () => {
    const mastercard = await provider.chargeOffSession(charge({ paymentMethodId: 'pm_card_mastercard' }));
    expect(mastercard).toMatchObject({ outcome: 'charged', card: { brand: 'mastercard', last4: '4444' } });
    const amex = await provider.chargeOffSession(charge({ paymentMethodId: 'pm_card_amex' }));
    expect(amex).toMatchObject({ outcome: 'charged', card: { brand: 'amex', last4: '0005' } });
    if (amex.outcome !== 'charged') return;
    const charged = fake.charge(fake.paymentIntent(amex.paymentId)?.latest_charge ?? '');
    expect(charged?.payment_method_details.card).toMatchObject({ brand: 'amex', last4: '0005' });
  });

  it('declines the card that holds but refuses a later off-session charge', async () => {
    const paymentMethodId = 'pm_card_chargeDeclinedOffSession';
    const auth = await provider.authorize({
      amountMinor: 5000,
      currency: 'EUR',
      paymentMethodId,
      customerId: 'cus_driver9',
      idempotencyKey: 'authorize:declines-later',
    });
    expect(auth.outcome).toBe('authorized');
    const result = await provider.chargeOffSession(charge({ paymentMethodId }));
    expect(result).toEqual({
      outcome: 'declined',
      paymentId: expect.stringMatching(/^pi_/),
      code: 'insufficient_funds',
      message: expect.any(String),
    });
    if (result.outcome === 'charged' || !result.paymentId) return;
    expect(fake.paymentIntent(result.paymentId)).toMatchObject({
      status: 'requires_payment_method',
      amount_received: 0,
    });
    expect(fake.events().map((e) => e.event.type)).toContain('payment_intent.payment_failed');
  });

  it('reports authentication_required for the Stripe test card that always wants 3-D Secure', async () => {
    const result = await provider.chargeOffSession(
      charge({ paymentMethodId: 'pm_card_authenticationRequired' }),
    );
    expect(result).toMatchObject({ outcome: 'authentication_required', code: 'authentication_required' });
  });

  it('reports authentication_required for the card that holds, then wants 3-D Secure off-session', async () => {
    const paymentMethodId = 'pm_card_authenticationRequiredOffSession';
    const auth = await provider.authorize({
      amountMinor: 5000,
      currency: 'EUR',
      paymentMethodId,
      customerId: 'cus_driver9',
      idempotencyKey: 'authorize:auth-later',
    });
    expect(auth.outcome).toBe('authorized');
    const result = await provider.chargeOffSession(charge({ paymentMethodId }));
    expect(result).toMatchObject({ outcome: 'authentication_required', code: 'authentication_required' });
  });

  it('declines as scripted for one customer only', async () => {
    fake.declineNext({ on: 'off_session', customer: 'cus_unlucky', declineCode: 'do_not_honor' });
    await expect(provider.chargeOffSession(charge())).resolves.toMatchObject({ outcome: 'charged' });
    await expect(provider.chargeOffSession(charge({ customerId: 'cus_unlucky' }))).resolves.toMatchObject({
      outcome: 'declined',
      code: 'do_not_honor',
    });
    await expect(provider.chargeOffSession(charge({ customerId: 'cus_unlucky' }))).resolves.toMatchObject({
      outcome: 'charged',
    });
  });

  it('scripts an authentication decline too', async () => {
    fake.declineNext({ on: 'off_session', declineCode: 'authentication_required' });
    await expect(provider.chargeOffSession(charge())).resolves.toMatchObject({
      outcome: 'authentication_required',
    });
  });

  it('keeps off-session rules away from holds, and hold rules away from off-session charges', async () => {
    fake.declineNext({ on: 'off_session' });
    fake.failNext({ operation: 'off_session', status: 500 });
    const auth = await provider.authorize({
      amountMinor: 5000,
      currency: 'EUR',
      paymentMethodId: 'pm_card_visa',
      customerId: 'cus_driver9',
      idempotencyKey: 'authorize:untouched',
    });
    expect(auth.outcome).toBe('authorized');
    fake.reset();
    fake.declineNext({ on: 'authorize' });
    await expect(provider.chargeOffSession(charge())).resolves.toMatchObject({ outcome: 'charged' });
  });

  it('turns a 500 into a retryable Error that charged nothing; the retry charges once', async () => {
    fake.failNext({ operation: 'off_session', status: 500 });
    const request = charge();
    const err = await failure(provider.chargeOffSession(request));
    expect(err).not.toBeInstanceOf(PaymentRejectedError);
    expect(err.message).toMatch(/HTTP 500/);
    expect(fake.listPaymentIntents()).toHaveLength(0);
    await expect(provider.chargeOffSession(request)).resolves.toMatchObject({ outcome: 'charged' });
    expect(fake.listCharges()).toHaveLength(1);
  });

  it('returns the same charge for a retry with the same key, charging once', async () => {
    const request = charge();
    const first = await provider.chargeOffSession(request);
    const again = await provider.chargeOffSession(request);
    expect(again).toEqual(first);
    expect(fake.listPaymentIntents()).toHaveLength(1);
    expect(fake.listBalanceTransactions().filter((t) => t.type === 'charge')).toHaveLength(1);
    expect(fake.requests().map((r) => r.replayed)).toEqual([false, true]);
  });

  it('charges once when the response was lost to a timeout and the call is retried', async () => {
    const impatient = createStripeProvider(
      createStripeClient({ secretKey, apiBase: fake.url, timeoutMs: 300 }),
      { logger: quiet },
    );
    fake.failNext({ operation: 'off_session', status: 200, delayMs: 1500 });
    const request = charge();
    const err = await failure(impatient.chargeOffSession(request));
    expect(err).not.toBeInstanceOf(PaymentRejectedError);
    expect(fake.listPaymentIntents()).toHaveLength(1);
    const retried = await impatient.chargeOffSession(request);
    expect(retried).toMatchObject({ outcome: 'charged', paymentId: fake.listPaymentIntents()[0].id });
    expect(fake.listPaymentIntents()).toHaveLength(1);
  });

  it('replays a decline for a retry, without a second attempt on the card', async () => {
    const request = charge({ paymentMethodId: 'pm_card_chargeDeclinedOffSession' });
    const first = await provider.chargeOffSession(request);
    expect(await provider.chargeOffSession(request)).toEqual(first);
    expect(fake.listCharges()).toHaveLength(1);
  });

  it('refuses an amount above what a payment may be as AmountTooLargeError', async () => {
    const err = await failure(provider.chargeOffSession(charge({ amountMinor: 100_000_000 })));
    expect(err).toBeInstanceOf(AmountTooLargeError);
    expect(err).toMatchObject({ code: 'amount_too_large' });
  });

  it('refuses a call without key, customer or a whole amount before anything is sent', async () => {
    for (const overrides of [{ idempotencyKey: '' }, { customerId: '' }, { amountMinor: 10.5 }]) {
      expect(await failure(provider.chargeOffSession(charge(overrides)))).toBeInstanceOf(
        PaymentRejectedError,
      );
    }
    expect(fake.requests()).toHaveLength(0);
  });
});
