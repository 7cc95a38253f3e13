// Contract check of the adapter's request shapes against stripe-mock, which validates every request against
// Stripe's OpenAPI spec: a misspelled or mistyped parameter is a 400 there. stripe-mock is stateless and
// answers with fixtures, so these tests assert that Stripe would accept our requests, not the resulting state.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import { createLogger } from '../../config/logger';
import { type PaymentProvider } from '../../payments/port';
import { type ProviderRecords } from '../../payments/provider-records';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';
import { createStripeRecords } from '../../payments/stripe-records';
import { type RecordingProxy, startRecordingProxy } from './recording-proxy';

const binary = process.env.STRIPE_MOCK_BIN || path.resolve(__dirname, '../../.tools/bin/stripe-mock');
const missingBinary = `stripe-mock not found at ${binary}: run \`npm run setup:tools\` (or set STRIPE_MOCK_BIN)`;

let mock: ChildProcess | undefined;
let stripe: Stripe;
let provider: PaymentProvider;
let records: ProviderRecords;
let apiBase: string | undefined;
const responses: Stripe.ResponseEvent[] = [];

/** Starts stripe-mock on free ports and resolves with its HTTP address once it has printed it. */
function startStripeMock(): Promise<{ child: ChildProcess; apiBase: string }> {
  return new Promise((resolve, reject) => {
    // Both listeners get a free port: by default stripe-mock also takes :12112 for HTTPS, which collides
    // with any other stripe-mock on the machine.
    const child = spawn(binary, ['-http-addr', '127.0.0.1:0', '-https-addr', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`stripe-mock did not start within 15s; output:\n${output}`)),
      15_000,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening for HTTP at address: (?:\[::\]|127\.0\.0\.1|0\.0\.0\.0):(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, apiBase: `http://127.0.0.1:${match[1]}` });
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.on('error', fail);
    child.on('exit', (code) =>
      fail(new Error(`stripe-mock exited early (code ${code}); output:\n${output}`)),
    );
  });
}

async function waitUntilAnswering(apiBase: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${apiBase}/v1/payment_intents/pi_123`, {
        headers: { Authorization: 'Bearer sk_test_123' },
      });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`stripe-mock at ${apiBase} did not answer within 15s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  if (!existsSync(binary)) return; // every test fails below with the setup hint
  const started = await startStripeMock();
  mock = started.child;
  apiBase = started.apiBase;
  await waitUntilAnswering(started.apiBase);
  stripe = createStripeClient({ secretKey: 'sk_test_123', apiBase: started.apiBase });
  stripe.on('response', (event: Stripe.ResponseEvent) => responses.push(event));
  provider = createStripeProvider(stripe, { logger: createLogger({}, 'error') });
  records = createStripeRecords(stripe, {
    webhookSecret: 'whsec_contract',
    logger: createLogger({}, 'error'),
  });
});

afterAll(async () => {
  if (!mock || mock.exitCode !== null) return;
  const exited = once(mock, 'exit');
  mock.kill('SIGTERM');
  await exited;
});

beforeEach(() => {
  responses.length = 0;
});

function requireMock(): void {
  if (!existsSync(binary)) throw new Error(missingBinary);
  if (!mock) throw new Error('stripe-mock did not start (see the beforeAll error)');
}

/** The single HTTP exchange the last adapter call made, as the SDK saw it. */
function onlyExchange(): Stripe.ResponseEvent {
  expect(responses).toHaveLength(1);
  return responses[0];
}

describe('adapter requests against stripe-mock (Stripe OpenAPI validation)', () => {
  it('authorize: PaymentIntent create with manual capture, saved for off-session use, and metadata', async () => {
    requireMock();
    const result = await provider.authorize({
      amountMinor: 4200,
      currency: 'EUR',
      paymentMethodId: 'pm_card_visa',
      customerId: 'cus_123',
      idempotencyKey: 'contract:authorize:1',
      description: 'Charging session ses_contract',
      metadata: { sessionId: 'ses_contract', chargePointId: 'CP-1' },
    });
    // stripe-mock answers from a fixture whose status is not requires_capture, so the outcome itself says
    // nothing; what matters is that the request passed validation and produced an intent id.
    expect(result.paymentId).toMatch(/^pi_/);
    expect(onlyExchange()).toMatchObject({
      method: 'POST',
      path: '/v1/payment_intents',
      status: 200,
      idempotency_key: 'contract:authorize:1',
    });
  });

  it('authorize without the optional fields', async () => {
    requireMock();
    const result = await provider.authorize({
      amountMinor: 1,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      idempotencyKey: 'contract:authorize:2',
    });
    expect(result.paymentId).toMatch(/^pi_/);
    expect(onlyExchange().status).toBe(200);
  });

  it('capture: amount_to_capture on the capture endpoint', async () => {
    requireMock();
    await expect(
      provider.capture({ paymentId: 'pi_123', amountMinor: 1500, idempotencyKey: 'contract:capture:1' }),
    ).resolves.toMatchObject({ status: 'captured' });
    expect(onlyExchange()).toMatchObject({
      method: 'POST',
      path: '/v1/payment_intents/pi_123/capture',
      status: 200,
      idempotency_key: 'contract:capture:1',
    });
  });

  it('cancel: the cancel endpoint', async () => {
    requireMock();
    await expect(
      provider.cancel({ paymentId: 'pi_123', idempotencyKey: 'contract:cancel:1' }),
    ).resolves.toEqual({
      paymentId: 'pi_123',
      status: 'canceled',
    });
    expect(onlyExchange()).toMatchObject({
      method: 'POST',
      path: '/v1/payment_intents/pi_123/cancel',
      status: 200,
      idempotency_key: 'contract:cancel:1',
    });
  });

  it('refund: Refund create by payment_intent with amount, reason and metadata', async () => {
    requireMock();
    const result = await provider.refund({
      paymentId: 'pi_123',
      amountMinor: 700,
      idempotencyKey: 'contract:refund:1',
      reason: 'requested_by_customer',
      metadata: { sessionId: 'ses_contract' },
    });
    // The fixture's own refund comes back, whatever we asked for; only its id is worth asserting.
    expect(result.refundId).toMatch(/^re_/);
    expect(onlyExchange()).toMatchObject({
      method: 'POST',
      path: '/v1/refunds',
      status: 200,
      idempotency_key: 'contract:refund:1',
    });
  });

  it('refund without the optional fields', async () => {
    requireMock();
    const result = await provider.refund({
      paymentId: 'pi_123',
      amountMinor: 1,
      idempotencyKey: 'contract:refund:2',
    });
    expect(result.refundId).toMatch(/^re_/);
    expect(onlyExchange().status).toBe(200);
  });

  it('transfer: Transfer create to a connected account with description and metadata', async () => {
    requireMock();
    const result = await provider.transfer({
      destinationAccountId: 'acct_1OwnerContract',
      amountMinor: 2730,
      currency: 'EUR',
      idempotencyKey: 'contract:transfer:1',
      description: 'Revenue share 2026-07',
      metadata: { party_id: 'rp_contract', period: '2026-07' },
    });
    // The fixture's own transfer comes back, whatever we asked for; only its id is worth asserting.
    expect(result.transferId).toMatch(/^tr_/);
    expect(onlyExchange()).toMatchObject({
      method: 'POST',
      path: '/v1/transfers',
      status: 200,
      idempotency_key: 'contract:transfer:1',
    });
  });

  it('transfer without the optional fields', async () => {
    requireMock();
    const result = await provider.transfer({
      destinationAccountId: 'acct_1OwnerContract',
      amountMinor: 1,
      currency: 'usd',
      idempotencyKey: 'contract:transfer:2',
    });
    expect(result.transferId).toMatch(/^tr_/);
    expect(onlyExchange().status).toBe(200);
  });

  it('really validates: a misspelled or mistyped parameter is refused', async () => {
    requireMock();
    // Guards the tests above: if stripe-mock accepted anything, they would prove nothing.
    const misspelled = { amount_to_captur: 1500 } as Stripe.PaymentIntentCaptureParams;
    await expect(stripe.paymentIntents.capture('pi_123', misspelled)).rejects.toBeInstanceOf(
      Stripe.errors.StripeInvalidRequestError,
    );
    const mistyped = {
      amount: 100,
      currency: 'eur',
      capture_method: 'later',
    } as unknown as Stripe.PaymentIntentCreateParams;
    await expect(stripe.paymentIntents.create(mistyped)).rejects.toBeInstanceOf(
      Stripe.errors.StripeInvalidRequestError,
    );
    const badReason = { payment_intent: 'pi_123', amount: 100, reason: 'changed_mind' };
    await expect(stripe.refunds.create(badReason)).rejects.toBeInstanceOf(
      Stripe.errors.StripeInvalidRequestError,
    );
    const noDestination = { amount: 100, currency: 'eur' } as Stripe.TransferCreateParams;
    await expect(stripe.transfers.create(noDestination)).rejects.toBeInstanceOf(
      Stripe.errors.StripeInvalidRequestError,
    );
    // List queries are validated too, so the list tests below prove their created ranges and filters.
    const textRange = { created: { gte: 'yesterday' } } as unknown as Stripe.PaymentIntentListParams;
    await expect(stripe.paymentIntents.list(textRange)).rejects.toBeInstanceOf(
      Stripe.errors.StripeInvalidRequestError,
    );
    const misspelledFilter = { payment_intnt: 'pi_123' } as Stripe.RefundListParams;
    await expect(stripe.refunds.list(misspelledFilter)).rejects.toBeInstanceOf(
      Stripe.errors.StripeInvalidRequestError,
    );
  });
});

describe('records list requests against stripe-mock', () => {
  // 2026-01-01T00:00:00Z to 2026-02-01T00:00:00Z; stripe-mock answers one fixture page whatever the range.
  const range = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-02-01T00:00:00Z') };
  const created = 'created[gte]=1767225600&created[lt]=1769904000';

  async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of items) out.push(item);
    return out;
  }

  /** The single list request made, as the SDK sent it (path and query), and that stripe-mock accepted it. */
  function onlyListRequest(): string {
    const exchange = onlyExchange();
    expect(exchange).toMatchObject({ method: 'GET', status: 200 });
    return exchange.path;
  }

  it('listPayments: PaymentIntent list with a created range and the largest page', async () => {
    requireMock();
    const payments = await collect(records.listPayments(range));
    expect(payments[0].paymentId).toMatch(/^pi_/);
    expect(onlyListRequest()).toBe(`/v1/payment_intents?${created}&limit=100`);
  });

  it('listRefunds: by created range, and by payment_intent', async () => {
    requireMock();
    const byRange = await collect(records.listRefunds(range));
    expect(byRange[0].refundId).toMatch(/^re_/);
    expect(onlyListRequest()).toBe(`/v1/refunds?${created}&limit=100`);
    responses.length = 0;
    await collect(records.listRefunds({ paymentId: 'pi_123' }));
    expect(onlyListRequest()).toBe('/v1/refunds?payment_intent=pi_123&limit=100');
  });

  it('listDisputes: Dispute list with a created range', async () => {
    requireMock();
    const disputes = await collect(records.listDisputes(range));
    expect(disputes[0].disputeId).toMatch(/^d[up]_/);
    expect(onlyListRequest()).toBe(`/v1/disputes?${created}&limit=100`);
  });

  it('listBalanceTransactions: created range with the source expanded', async () => {
    requireMock();
    const txns = await collect(records.listBalanceTransactions(range));
    // The fixture expands `source` to some object (an application fee); its id is still read from it.
    expect(txns[0]).toMatchObject({
      id: expect.stringMatching(/^txn_/),
      sourceId: expect.stringMatching(/^\w+_\w+$/),
    });
    expect(onlyListRequest()).toBe(`/v1/balance_transactions?${created}&limit=100&expand[0]=data.source`);
  });
});

describe('hold, increment and off-session request shapes against stripe-mock', () => {
  // Through a recording proxy: stripe-mock proves Stripe accepts each request, the proxy shows what was in it.
  let proxy: RecordingProxy | undefined;
  let holds: PaymentProvider;

  beforeAll(async () => {
    if (!apiBase) return;
    proxy = await startRecordingProxy(apiBase);
    const client = createStripeClient({ secretKey: 'sk_test_123', apiBase: proxy.url });
    client.on('response', (event: Stripe.ResponseEvent) => responses.push(event));
    holds = createStripeProvider(client, { logger: createLogger({}, 'error') });
  });

  afterAll(async () => {
    await proxy?.close();
  });

  beforeEach(() => {
    if (proxy) proxy.requests.length = 0;
  });

  function onlyRequest(): ProxiedRequestShape {
    requireMock();
    expect(proxy?.requests).toHaveLength(1);
    expect(onlyExchange().status).toBe(200);
    return proxy!.requests[0];
  }

  it('authorize: manual capture, incremental authorization if available, saved for off-session use', async () => {
    requireMock();
    const result = await holds.authorize({
      amountMinor: 4200,
      currency: 'EUR',
      paymentMethodId: 'pm_card_visa',
      customerId: 'cus_123',
      idempotencyKey: 'contract:hold:1',
      multicapture: true,
    });
    expect(result.paymentId).toMatch(/^pi_/);
    const sent = onlyRequest();
    expect(sent).toMatchObject({
      method: 'POST',
      path: '/v1/payment_intents',
      idempotencyKey: 'contract:hold:1',
    });
    expect(sent.form).toMatchObject({
      amount: '4200',
      currency: 'eur',
      capture_method: 'manual',
      confirm: 'true',
      customer: 'cus_123',
      setup_future_usage: 'off_session',
      'payment_method_options[card][request_incremental_authorization]': 'if_available',
      'payment_method_options[card][request_multicapture]': 'if_available',
      'expand[0]': 'latest_charge',
    });
    // Stripe refuses off_session together with setup_future_usage.
    expect(sent.form).not.toHaveProperty('off_session');
  });

  it('authorize without saving: a merchant-initiated hold (off_session), nothing to set up', async () => {
    requireMock();
    await holds.authorize({
      amountMinor: 100,
      currency: 'eur',
      paymentMethodId: 'pm_card_visa',
      idempotencyKey: 'contract:hold:2',
    });
    const sent = onlyRequest();
    expect(sent.form).toMatchObject({ off_session: 'true', capture_method: 'manual' });
    expect(sent.form).not.toHaveProperty('setup_future_usage');
  });

  it('increment: the new total on increment_authorization', async () => {
    requireMock();
    const result = await holds.increment({
      paymentId: 'pi_123',
      newAmountMinor: 6500,
      idempotencyKey: 'contract:increment:1',
      metadata: { session_id: 'ses_contract' },
    });
    expect(result.outcome).toBe('incremented');
    const sent = onlyRequest();
    expect(sent).toMatchObject({
      method: 'POST',
      path: '/v1/payment_intents/pi_123/increment_authorization',
      idempotencyKey: 'contract:increment:1',
    });
    expect(sent.form).toEqual({ amount: '6500', 'metadata[session_id]': 'ses_contract' });
  });

  it('capture: final_capture=false for a partial capture, left out for a final one', async () => {
    requireMock();
    await holds.capture({
      paymentId: 'pi_123',
      amountMinor: 700,
      final: false,
      idempotencyKey: 'contract:mc:1',
    });
    expect(onlyRequest().form).toEqual({ amount_to_capture: '700', final_capture: 'false' });
    proxy!.requests.length = 0;
    responses.length = 0;
    await holds.capture({ paymentId: 'pi_123', amountMinor: 300, idempotencyKey: 'contract:mc:2' });
    expect(onlyRequest().form).toEqual({ amount_to_capture: '300' });
  });

  it('chargeOffSession: an off-session PaymentIntent, confirmed and captured at once', async () => {
    requireMock();
    const result = await holds.chargeOffSession({
      customerId: 'cus_123',
      paymentMethodId: 'pm_card_visa',
      amountMinor: 1234,
      currency: 'EUR',
      idempotencyKey: 'contract:offsession:1',
      metadata: { kind: 'difference' },
    });
    expect(result.paymentId).toMatch(/^pi_/);
    const sent = onlyRequest();
    expect(sent).toMatchObject({ path: '/v1/payment_intents', idempotencyKey: 'contract:offsession:1' });
    expect(sent.form).toMatchObject({
      amount: '1234',
      currency: 'eur',
      customer: 'cus_123',
      payment_method: 'pm_card_visa',
      off_session: 'true',
      confirm: 'true',
      capture_method: 'automatic',
      'metadata[kind]': 'difference',
    });
    expect(sent.form).not.toHaveProperty('setup_future_usage');
  });

  it('capabilities: the PaymentIntent with its latest charge expanded; release: the cancel endpoint', async () => {
    requireMock();
    const caps = await holds.capabilities('pi_123');
    expect(caps.payment).toBeDefined();
    expect(onlyRequest()).toMatchObject({
      method: 'GET',
      path: '/v1/payment_intents/pi_123?expand[0]=latest_charge',
    });
    proxy!.requests.length = 0;
    responses.length = 0;
    await holds.release({ paymentId: 'pi_123', idempotencyKey: 'contract:release:1' });
    expect(onlyRequest()).toMatchObject({
      path: '/v1/payment_intents/pi_123/cancel',
      idempotencyKey: 'contract:release:1',
    });
  });

  it('really validates the new shapes: misspelled or mistyped parameters are refused', async () => {
    requireMock();
    const invalid = Stripe.errors.StripeInvalidRequestError;
    const noAmount = {} as Stripe.PaymentIntentIncrementAuthorizationParams;
    await expect(stripe.paymentIntents.incrementAuthorization('pi_123', noAmount)).rejects.toBeInstanceOf(
      invalid,
    );
    const misspelled = { amount: 100, amout: 1 } as Stripe.PaymentIntentIncrementAuthorizationParams;
    await expect(stripe.paymentIntents.incrementAuthorization('pi_123', misspelled)).rejects.toBeInstanceOf(
      invalid,
    );
    const finalText = { final_capture: 'maybe' } as unknown as Stripe.PaymentIntentCaptureParams;
    await expect(stripe.paymentIntents.capture('pi_123', finalText)).rejects.toBeInstanceOf(invalid);
    const badOption = {
      amount: 100,
      currency: 'eur',
      payment_method_options: { card: { request_incremental_authorization: 'always' } },
    } as unknown as Stripe.PaymentIntentCreateParams;
    await expect(stripe.paymentIntents.create(badOption)).rejects.toBeInstanceOf(invalid);
    const badUsage = {
      amount: 100,
      currency: 'eur',
      setup_future_usage: 'later',
    } as unknown as Stripe.PaymentIntentCreateParams;
    await expect(stripe.paymentIntents.create(badUsage)).rejects.toBeInstanceOf(invalid);
  });
});

type ProxiedRequestShape = RecordingProxy['requests'][number];
