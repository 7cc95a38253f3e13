// The fake answering at a real provider's pace: every API reply held back by a latency drawn from a range
// (start option, runtime setter, /_fake/latency), while the test-only /_fake routes answer at once.
import { createLogger } from '../../config/logger';
import { type FakeStripe, startFakeStripe } from '../../payments/fake-stripe';
import { drawLatency, latencyRange } from '../../payments/fake-stripe/latency';
import { type PaymentProvider } from '../../payments/port';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';

const quiet = createLogger({}, 'error');
const LATENCY = { min: 400, max: 500 };

let fake: FakeStripe;
let provider: PaymentProvider;

beforeAll(async () => {
  fake = await startFakeStripe({ logger: quiet, latencyMs: LATENCY });
  provider = createStripeProvider(
    createStripeClient({ secretKey: 'sk_test_latency_123', apiBase: fake.url }),
    { logger: quiet },
  );
});

afterAll(() => fake.close());

beforeEach(() => fake.reset());

let seq = 0;
async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; out: T }> {
  const t = performance.now();
  const out = await run();
  return { ms: performance.now() - t, out };
}

const authorize = () =>
  provider.authorize({
    amountMinor: 500,
    currency: 'EUR',
    paymentMethodId: 'pm_card_visa',
    idempotencyKey: `latency:${++seq}`,
  });

const control = (path: string, body: object) =>
  fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('latencyMs', () => {
  it('holds every API reply back by the configured time, the work done at once', async () => {
    const { ms, out } = await timed(authorize);
    expect(out.outcome).toBe('authorized');
    expect(ms).toBeGreaterThanOrEqual(LATENCY.min - 5);
    // The fake acted before it answered: the hold stood while the reply was on its way.
    const pending = authorize();
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.listPaymentIntents().filter((pi) => pi.status === 'requires_capture')).toHaveLength(2);
    await pending;
    // Each call pays its own round trip: authorize, then capture.
    if (out.outcome !== 'authorized') return;
    const capture = await timed(() =>
      provider.capture({ paymentId: out.paymentId, amountMinor: 300, idempotencyKey: `latency:${++seq}` }),
    );
    expect(capture.ms).toBeGreaterThanOrEqual(LATENCY.min - 5);
    expect(fake.requests().map((r) => [r.operation, r.path])).toEqual([
      ['authorize', '/v1/payment_intents'],
      ['authorize', '/v1/payment_intents'],
      ['capture', `/v1/payment_intents/${out.paymentId}/capture`],
    ]);
  });

  it('answers the test-only /_fake routes at once', async () => {
    const { ms, out } = await timed(() => control('/_fake/hold_lifetime', { seconds: 60 }));
    expect(out.status).toBe(200);
    expect(ms).toBeLessThan(LATENCY.min);
  });

  it('changes at runtime: setLatency, 0 for none, undefined (and reset) for the start option', async () => {
    fake.setLatency(0);
    expect((await timed(authorize)).ms).toBeLessThan(LATENCY.min);
    fake.setLatency(undefined);
    expect((await timed(authorize)).ms).toBeGreaterThanOrEqual(LATENCY.min - 5);
    fake.setLatency(0);
    fake.reset();
    expect((await timed(authorize)).ms).toBeGreaterThanOrEqual(LATENCY.min - 5);
  });

  it('can be set over HTTP by another process: POST /_fake/latency', async () => {
    const off = await control('/_fake/latency', { min_ms: 0, max_ms: 0 });
    expect(await off.json()).toEqual({ object: 'latency', min_ms: 0, max_ms: 0 });
    expect((await timed(authorize)).ms).toBeLessThan(LATENCY.min);
    const bad = await control('/_fake/latency', { min_ms: 200, max_ms: 100 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { param: 'max_ms' } });
    await control('/_fake/latency', {});
    expect((await timed(authorize)).ms).toBeGreaterThanOrEqual(LATENCY.min - 5);
  });

  it('refuses a bad range with a clear error, and draws within the range', async () => {
    await expect(startFakeStripe({ logger: quiet, latencyMs: { min: 300, max: 100 } })).rejects.toThrow(
      /latencyMs.min \(300\) must not be above latencyMs.max \(100\)/,
    );
    expect(() => fake.setLatency(-1)).toThrow(RangeError);
    expect(() => fake.setLatency({ min: 0, max: Number.NaN })).toThrow(/latencyMs.max/);
    expect(latencyRange(150)).toEqual({ min: 150, max: 150 });
    const range = latencyRange({ min: 100, max: 300 });
    expect(drawLatency(range, () => 0)).toBe(100);
    expect(drawLatency(range, () => 0.5)).toBe(200);
    for (let i = 0; i < 100; i++) {
      const ms = drawLatency(range);
      expect(ms).toBeGreaterThanOrEqual(100);
      expect(ms).toBeLessThanOrEqual(300);
    }
  });
});
