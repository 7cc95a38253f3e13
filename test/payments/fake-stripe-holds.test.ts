// The fake's hold model over raw HTTP and its control routes, as another process (the local platform, a
// shell script) would drive it: increment_authorization, the capture deadline on the charge, expiring a
// hold, scripted declines, the hold lifetime, and the events these send.
import { createLogger } from '../../config/logger';
import { type FakeStripe, startFakeStripe } from '../../payments/fake-stripe';

const quiet = createLogger({}, 'error');
const auth = { Authorization: 'Bearer sk_test_fake_holds_1234' };
const form = { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' };
const HOLD_PARAMS =
  'amount=5000&currency=eur&confirm=true&capture_method=manual&customer=cus_raw' +
  '&payment_method_options[card][request_incremental_authorization]=if_available';

let fake: FakeStripe;

beforeAll(async () => {
  fake = await startFakeStripe({ logger: quiet, holdLifetimeMs: 3 * 24 * 3600 * 1000 });
});

afterAll(() => fake.close());

beforeEach(() => fake.reset());

type Json = Record<string, unknown>;

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${fake.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as Json };
}

const post = (path: string, body: string, headers: Record<string, string> = form) =>
  call(path, { method: 'POST', headers, body });

async function held(paymentMethod = 'pm_card_visa', extra = ''): Promise<Json> {
  const res = await post('/v1/payment_intents', `${HOLD_PARAMS}&payment_method=${paymentMethod}${extra}`);
  expect(res.status).toBe(200);
  return res.body;
}

const errorOf = (body: Json) => body.error as Json;

describe('the capture deadline and card features on the charge', () => {
  it('puts capture_before (the configured lifetime) and the granted features on the charge', async () => {
    const intent = await held('pm_card_visa', '&expand[]=latest_charge');
    const charge = intent.latest_charge as Json;
    expect(charge).toMatchObject({ object: 'charge', payment_intent: intent.id });
    const card = (charge.payment_method_details as { card: Json }).card;
    expect(card).toMatchObject({
      brand: 'visa',
      last4: '4242',
      capture_before: (intent.created as number) + 3 * 24 * 3600,
      incremental_authorization: { status: 'available' },
      multicapture: { status: 'unavailable' },
      overcapture: { status: 'unavailable', maximum_amount_capturable: 5000 },
    });
    const retrieved = await call(`/v1/payment_intents/${intent.id as string}?expand[]=latest_charge`, {
      headers: auth,
    });
    expect(retrieved.body.latest_charge).toEqual(charge);
    const plain = await call(`/v1/payment_intents/${intent.id as string}`, { headers: auth });
    expect(plain.body.latest_charge).toBe(charge.id);
  });

  it('has no deadline on an automatic-capture charge, and nothing granted that was not asked for', async () => {
    const res = await post(
      '/v1/payment_intents',
      'amount=700&currency=eur&confirm=true&payment_method=pm_card_mastercard&expand[0]=latest_charge',
    );
    const card = ((res.body.latest_charge as Json).payment_method_details as { card: Json }).card;
    expect(card).toMatchObject({ brand: 'mastercard', last4: '4444' });
    expect(card).not.toHaveProperty('capture_before');
    expect(card.incremental_authorization).toEqual({ status: 'unavailable' });
  });

  it('refuses an expansion it does not model, and a bad card option, changing nothing', async () => {
    const expand = await post(
      '/v1/payment_intents',
      `${HOLD_PARAMS}&payment_method=pm_card_visa&expand[]=customer`,
    );
    expect(expand.status).toBe(400);
    expect(errorOf(expand.body)).toMatchObject({ param: 'expand' });
    const option = await post(
      '/v1/payment_intents',
      'amount=100&currency=eur&payment_method_options[card][request_incremental_authorization]=always',
    );
    expect(option.status).toBe(400);
    expect(errorOf(option.body).param).toBe(
      'payment_method_options[card][request_incremental_authorization]',
    );
    expect(fake.listPaymentIntents()).toHaveLength(0);
  });

  it('refuses off_session together with setup_future_usage, as Stripe does', async () => {
    const res = await post(
      '/v1/payment_intents',
      `${HOLD_PARAMS}&payment_method=pm_card_visa&off_session=true&setup_future_usage=off_session`,
    );
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toMatchObject({ type: 'invalid_request_error', param: 'off_session' });
    expect(fake.listPaymentIntents()).toHaveLength(0);
  });
});

describe('POST /v1/payment_intents/{id}/increment_authorization', () => {
  it('raises amount and amount_capturable, and announces it', async () => {
    const intent = await held();
    const res = await post(
      `/v1/payment_intents/${intent.id as string}/increment_authorization`,
      'amount=7500',
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'requires_capture', amount: 7500, amount_capturable: 7500 });
    expect(fake.events().map((e) => e.event.type)).toEqual(['payment_intent.amount_capturable_updated']);
  });

  it.each([
    ['a missing amount', '', 'parameter_missing'],
    ['an amount not above the hold', 'amount=5000', 'parameter_invalid_integer'],
    ['an unknown parameter', 'amount=6000&amont=1', 'parameter_unknown'],
  ])('answers %s with a 400, spending no attempt', async (_label, body, code) => {
    const intent = await held();
    const res = await post(`/v1/payment_intents/${intent.id as string}/increment_authorization`, body);
    expect(res.status).toBe(400);
    expect(errorOf(res.body).code).toBe(code);
    expect(fake.incrementAttempts(intent.id as string)).toBe(0);
  });

  it('404s an unknown intent', async () => {
    const res = await post('/v1/payment_intents/pi_nope/increment_authorization', 'amount=6000');
    expect(res.status).toBe(404);
    expect(errorOf(res.body)).toMatchObject({ code: 'resource_missing', param: 'intent' });
  });

  it('answers a declined increment with a 402 carrying the unchanged intent', async () => {
    const intent = await held('pm_card_visa_increment_declined');
    const res = await post(
      `/v1/payment_intents/${intent.id as string}/increment_authorization`,
      'amount=6000',
    );
    expect(res.status).toBe(402);
    expect(errorOf(res.body)).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      payment_intent: { id: intent.id, amount: 5000, status: 'requires_capture' },
    });
  });

  it('refuses an increment after a capture', async () => {
    const intent = await held();
    await post(`/v1/payment_intents/${intent.id as string}/capture`, 'amount_to_capture=100');
    const res = await post(
      `/v1/payment_intents/${intent.id as string}/increment_authorization`,
      'amount=6000',
    );
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toMatchObject({ code: 'payment_intent_unexpected_state' });
  });
});

describe('control routes', () => {
  it('POST /_fake/payment_intents/{id}/expire: the next capture fails and the intent is canceled', async () => {
    const intent = await held();
    const expired = await post(`/_fake/payment_intents/${intent.id as string}/expire`, '');
    expect(expired).toMatchObject({ status: 200, body: { id: intent.id, status: 'requires_capture' } });
    const capture = await post(`/v1/payment_intents/${intent.id as string}/capture`, 'amount_to_capture=100');
    expect(capture.status).toBe(400);
    expect(errorOf(capture.body)).toMatchObject({
      code: 'charge_expired_for_capture',
      payment_intent: { id: intent.id, status: 'canceled' },
    });
    expect(fake.events().map((e) => e.event.type)).toEqual(['payment_intent.canceled']);
    // Nothing left to expire.
    const again = await post(`/_fake/payment_intents/${intent.id as string}/expire`, '');
    expect(again.status).toBe(400);
    expect(() => fake.expireHold(intent.id as string)).toThrow(/not holding funds/);
  });

  it('finds an expired hold canceled on any request naming it, and in lists', async () => {
    const first = await held();
    const second = await held();
    fake.expireHold(first.id as string);
    fake.expireHold(second.id as string);
    const got = await call(`/v1/payment_intents/${first.id as string}`, { headers: auth });
    expect(got.body).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic' });
    const list = await call('/v1/payment_intents', { headers: auth });
    expect((list.body.data as Json[]).map((pi) => pi.status)).toEqual(['canceled', 'canceled']);
  });

  it('POST /_fake/declines: declines the next matching increment, with a JSON body', async () => {
    const intent = await held();
    const rule = await post(
      '/_fake/declines',
      JSON.stringify({ on: 'increment', payment_intent: intent.id, decline_code: 'insufficient_funds' }),
      { 'Content-Type': 'application/json' },
    );
    expect(rule).toMatchObject({ status: 200, body: { on: 'increment', paymentIntent: intent.id } });
    const res = await post(
      `/v1/payment_intents/${intent.id as string}/increment_authorization`,
      'amount=6000',
    );
    expect(res.status).toBe(402);
    expect(fake.incrementAttempts(intent.id as string)).toBe(1);
  });

  it('POST /_fake/declines: declines the next hold, and refuses a rule without `on`', async () => {
    await post('/_fake/declines', 'on=authorize&payment_method=pm_card_visa&decline_code=lost_card');
    const res = await post('/v1/payment_intents', `${HOLD_PARAMS}&payment_method=pm_card_visa`);
    expect(res.status).toBe(402);
    expect(errorOf(res.body)).toMatchObject({ decline_code: 'lost_card' });
    const bad = await post('/_fake/declines', 'payment_method=pm_card_visa');
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body)).toMatchObject({ param: 'on' });
  });

  it('POST /_fake/hold_lifetime: holds placed after it get that deadline; empty goes back', async () => {
    expect((await post('/_fake/hold_lifetime', 'seconds=600')).status).toBe(200);
    const short = await held('pm_card_visa', '&expand[]=latest_charge');
    const card = ((short.latest_charge as Json).payment_method_details as { card: Json }).card;
    expect(card.capture_before).toBe((short.created as number) + 600);

    await post('/_fake/hold_lifetime', '');
    const usual = await held('pm_card_visa', '&expand[]=latest_charge');
    const usualCard = ((usual.latest_charge as Json).payment_method_details as { card: Json }).card;
    expect(usualCard.capture_before).toBe((usual.created as number) + 3 * 24 * 3600);
    expect((await post('/_fake/hold_lifetime', 'seconds=0')).status).toBe(400);
  });
});

describe('failure rules by operation', () => {
  it('fails the increment on one intent, leaving captures and other intents alone', async () => {
    const target = await held();
    const other = await held();
    fake.failNext({ operation: 'increment', paymentIntent: target.id as string, status: 502 });
    expect(
      (await post(`/v1/payment_intents/${other.id as string}/increment_authorization`, 'amount=6000')).status,
    ).toBe(200);
    expect(
      (await post(`/v1/payment_intents/${target.id as string}/capture`, 'amount_to_capture=10')).status,
    ).toBe(200);
    const target2 = await held();
    fake.failNext({ operation: 'increment', paymentIntent: target2.id as string, status: 502 });
    const failed = await post(
      `/v1/payment_intents/${target2.id as string}/increment_authorization`,
      'amount=6000',
    );
    expect(failed.status).toBe(502);
    expect(fake.incrementAttempts(target2.id as string)).toBe(0);
  });

  it('tells an off-session charge from a hold on the same path', async () => {
    fake.failNext({ operation: 'off_session', status: 500 });
    expect((await post('/v1/payment_intents', `${HOLD_PARAMS}&payment_method=pm_card_visa`)).status).toBe(
      200,
    );
    const offSession = await post(
      '/v1/payment_intents',
      'amount=300&currency=eur&confirm=true&off_session=true&customer=cus_raw&payment_method=pm_card_visa',
    );
    expect(offSession.status).toBe(500);
  });
});

describe('reset', () => {
  it('forgets decline rules and the hold lifetime', async () => {
    fake.setHoldLifetime(60_000);
    fake.declineNext({ on: 'authorize' });
    fake.reset();
    const fresh = await held('pm_card_visa', '&expand[]=latest_charge');
    const card = ((fresh.latest_charge as Json).payment_method_details as { card: Json }).card;
    expect(card.capture_before).toBe((fresh.created as number) + 3 * 24 * 3600);
  });
});
