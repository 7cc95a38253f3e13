// The Stripe implementation of the payment-provider port, on PaymentIntents with manual capture: a session
// places a hold when it starts and captures the priced amount (or cancels the hold) when it ends. Payouts to
// revenue-sharing parties are Stripe Connect transfers.
import Stripe from 'stripe';
import { type Logger, logger as rootLogger } from '../config/logger';
import {
  assertMinorUnits,
  type AuthorizeRequest,
  type AuthorizeResult,
  type CancelRequest,
  type CancelResult,
  type CaptureRequest,
  type CaptureResult,
  type PaymentProvider,
  PaymentRejectedError,
  type RefundReason,
  type RefundRequest,
  type RefundResult,
  type TransferRequest,
  type TransferResult,
} from './port';

export interface StripeClientOptions {
  secretKey: string;
  /** e.g. `http://127.0.0.1:12111` for the fake or stripe-mock; Stripe's own API when omitted. */
  apiBase?: string;
  timeoutMs?: number;
}

export interface StripeProviderOptions {
  logger?: Logger;
}

// Well under a Temporal activity's start-to-close timeout, so a hung call fails the attempt, not the activity.
const DEFAULT_TIMEOUT_MS = 20_000;
// Stripe's documented maximum idempotency key length.
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const REFUND_REASONS: readonly RefundReason[] = ['requested_by_customer', 'duplicate', 'fraudulent'];

type Endpoint = Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'>;

function endpointFromApiBase(apiBase: string): Endpoint {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new Error(
      `Invalid Stripe apiBase ${JSON.stringify(apiBase)}: expected a URL like http://127.0.0.1:12111`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`Invalid Stripe apiBase ${JSON.stringify(apiBase)}: protocol must be http or https`);
  }
  // The SDK adds `/v1/...` itself and has no notion of a base path, so one here would be silently dropped.
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new Error(`Invalid Stripe apiBase ${JSON.stringify(apiBase)}: give only protocol, host and port`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return {
    protocol,
    // URL keeps IPv6 brackets in hostname; Node's http client wants the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
  };
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  if (!options.secretKey) throw new Error('createStripeClient: secretKey is required');
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new Error(
      `createStripeClient: timeoutMs must be a positive integer, got ${String(options.timeoutMs)}`,
    );
  }
  return new Stripe(options.secretKey, {
    // Temporal retries the activity with the same idempotency key. SDK retries inside an attempt would
    // hide failures from the retry policy and stretch the attempt past its timeout.
    maxNetworkRetries: 0,
    timeout,
    appInfo: { name: 'ev-billing' },
    ...(options.apiBase ? endpointFromApiBase(options.apiBase) : {}),
  });
}

function requireText(field: string, value: string, maxLength = Infinity): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new PaymentRejectedError(
      'invalid_request',
      `${field} must be a non-empty string of at most ${maxLength} characters`,
    );
  }
}

function stripeCurrency(currency: string): string {
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) {
    throw new PaymentRejectedError(
      'invalid_currency',
      `currency must be a 3-letter ISO 4217 code, got ${String(currency)}`,
    );
  }
  return currency.toLowerCase();
}

/**
 * Whether retrying the same request (same idempotency key) can succeed: network trouble, Stripe-side
 * errors, throttling, a concurrent request holding the key (409) or the object's lock.
 */
function isTransient(err: Stripe.errors.StripeError): boolean {
  if (
    err instanceof Stripe.errors.StripeConnectionError ||
    err instanceof Stripe.errors.StripeAPIError ||
    err instanceof Stripe.errors.StripeRateLimitError
  ) {
    return true;
  }
  if (err.headers?.['stripe-should-retry'] === 'true') return true;
  const status = err.statusCode;
  return (
    status === undefined || status >= 500 || status === 429 || status === 409 || err.code === 'lock_timeout'
  );
}

/**
 * Translates an SDK failure into the port's contract: transient trouble becomes a plain Error, which the
 * Temporal activity retries; a refusal becomes PaymentRejectedError, which it must not retry.
 */
function toPortError(err: unknown, operation: string, log: Logger): Error {
  if (!(err instanceof Stripe.errors.StripeError)) return err instanceof Error ? err : new Error(String(err));
  const detail = {
    operation,
    status: err.statusCode,
    code: err.code,
    type: err.type,
    requestId: err.requestId,
  };
  if (isTransient(err)) {
    log.warn('stripe call failed, retryable', detail);
    const status = err.statusCode ? ` (HTTP ${err.statusCode})` : '';
    return new Error(`Stripe ${operation} failed${status}: ${err.message}`, { cause: err });
  }
  log.warn('stripe refused the request', detail);
  const code = err.code || err.decline_code || err.rawType || err.type;
  return new PaymentRejectedError(code, `Stripe refused ${operation}: ${err.message}`, err.statusCode);
}

/** The PaymentIntent Stripe attaches to an error about one, when it did. */
function intentOf(err: unknown): Stripe.PaymentIntent | undefined {
  return err instanceof Stripe.errors.StripeError ? err.payment_intent : undefined;
}

export function createStripeProvider(stripe: Stripe, options: StripeProviderOptions = {}): PaymentProvider {
  const log = (options.logger ?? rootLogger).child({ component: 'payments.stripe' });

  async function authorize(r: AuthorizeRequest): Promise<AuthorizeResult> {
    assertMinorUnits('amountMinor', r.amountMinor, 1);
    const currency = stripeCurrency(r.currency);
    requireText('paymentMethodId', r.paymentMethodId);
    requireText('idempotencyKey', r.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH);
    const params: Stripe.PaymentIntentCreateParams = {
      amount: r.amountMinor,
      currency,
      payment_method: r.paymentMethodId,
      capture_method: 'manual',
      confirm: true,
      off_session: true,
      // Off-session there is no customer to redirect, and Stripe only confirms without a return_url once
      // redirect-based methods are ruled out.
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      ...(r.customerId ? { customer: r.customerId } : {}),
      ...(r.description ? { description: r.description } : {}),
      ...(r.metadata ? { metadata: r.metadata } : {}),
    };
    try {
      const intent = await stripe.paymentIntents.create(params, { idempotencyKey: r.idempotencyKey });
      if (intent.status === 'requires_capture') {
        log.info('payment authorized', {
          paymentId: intent.id,
          amountMinor: intent.amount_capturable,
          currency,
        });
        return {
          outcome: 'authorized',
          paymentId: intent.id,
          amountCapturableMinor: intent.amount_capturable,
        };
      }
      // Created but not holding funds (e.g. the card wants 3-D Secure, which off-session cannot do).
      const failure = intent.last_payment_error;
      const code = failure?.decline_code || failure?.code || intent.status;
      log.info('payment not authorized', { paymentId: intent.id, status: intent.status, code });
      return {
        outcome: 'declined',
        paymentId: intent.id,
        code,
        message: failure?.message ?? `PaymentIntent is ${intent.status}, not requires_capture`,
      };
    } catch (err) {
      if (err instanceof Stripe.errors.StripeCardError) {
        const code = err.decline_code || err.code || 'card_declined';
        log.info('payment declined', { paymentId: err.payment_intent?.id, code, requestId: err.requestId });
        return { outcome: 'declined', paymentId: err.payment_intent?.id, code, message: err.message };
      }
      throw toPortError(err, 'authorize', log);
    }
  }

  async function capture(r: CaptureRequest): Promise<CaptureResult> {
    requireText('paymentId', r.paymentId);
    requireText('idempotencyKey', r.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH);
    // Stripe refuses a zero capture; releasing the whole hold is cancel().
    assertMinorUnits('amountMinor', r.amountMinor, 1);
    try {
      const intent = await stripe.paymentIntents.capture(
        r.paymentId,
        { amount_to_capture: r.amountMinor },
        { idempotencyKey: r.idempotencyKey },
      );
      log.info('payment captured', { paymentId: intent.id, amountMinor: intent.amount_received });
      return { paymentId: intent.id, amountCapturedMinor: intent.amount_received, status: 'captured' };
    } catch (err) {
      // Idempotency keys cover retries; this covers a capture repeated under a new key (a reset workflow,
      // a replayed job). Capturing the same amount again is the same business act, so report it done.
      const intent = intentOf(err);
      if (
        intent?.id === r.paymentId &&
        intent.status === 'succeeded' &&
        intent.amount_received === r.amountMinor
      ) {
        log.info('payment was already captured', {
          paymentId: intent.id,
          amountMinor: intent.amount_received,
        });
        return { paymentId: intent.id, amountCapturedMinor: intent.amount_received, status: 'captured' };
      }
      throw toPortError(err, 'capture', log);
    }
  }

  async function cancel(r: CancelRequest): Promise<CancelResult> {
    requireText('paymentId', r.paymentId);
    requireText('idempotencyKey', r.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH);
    try {
      const intent = await stripe.paymentIntents.cancel(
        r.paymentId,
        {},
        { idempotencyKey: r.idempotencyKey },
      );
      log.info('payment canceled', { paymentId: intent.id });
      return { paymentId: intent.id, status: 'canceled' };
    } catch (err) {
      // Same reasoning as capture: the hold is released, which is all the caller asked for.
      const intent = intentOf(err);
      if (intent?.id === r.paymentId && intent.status === 'canceled') {
        log.info('payment was already canceled', { paymentId: intent.id });
        return { paymentId: intent.id, status: 'canceled' };
      }
      throw toPortError(err, 'cancel', log);
    }
  }

  async function refund(r: RefundRequest): Promise<RefundResult> {
    requireText('paymentId', r.paymentId);
    requireText('idempotencyKey', r.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH);
    assertMinorUnits('amountMinor', r.amountMinor, 1);
    if (r.reason !== undefined && !REFUND_REASONS.includes(r.reason)) {
      throw new PaymentRejectedError(
        'invalid_request',
        `reason must be one of ${REFUND_REASONS.join(', ')}, got ${String(r.reason)}`,
      );
    }
    const params: Stripe.RefundCreateParams = {
      payment_intent: r.paymentId,
      amount: r.amountMinor,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.metadata ? { metadata: r.metadata } : {}),
    };
    // No recovery under a new key here, unlike capture and cancel: two refunds of the same amount are a
    // legitimate pair of partial refunds, so only the idempotency key can tell a retry from a second refund.
    let created: Stripe.Refund;
    try {
      created = await stripe.refunds.create(params, { idempotencyKey: r.idempotencyKey });
    } catch (err) {
      throw toPortError(err, 'refund', log);
    }
    const paymentId =
      typeof created.payment_intent === 'string'
        ? created.payment_intent
        : (created.payment_intent?.id ?? r.paymentId);
    if (created.status === 'failed' || created.status === 'canceled') {
      // Retrying the same key replays this refund; only a new refund (new key) can try again.
      log.warn('refund not completed', {
        refundId: created.id,
        paymentId,
        status: created.status,
        failureReason: created.failure_reason,
      });
      throw new PaymentRejectedError(
        created.failure_reason || `refund_${created.status}`,
        `Stripe refund ${created.id} is ${created.status}`,
      );
    }
    // `pending` and `requires_action` (some payment methods need the customer's details) are not final yet.
    const status = created.status === 'succeeded' ? 'succeeded' : 'pending';
    log.info('payment refunded', { refundId: created.id, paymentId, amountMinor: created.amount, status });
    return { refundId: created.id, paymentId, amountRefundedMinor: created.amount, status };
  }

  // Stripe Connect "separate charges and transfers": the platform's balance pays the connected account.
  async function transfer(r: TransferRequest): Promise<TransferResult> {
    requireText('destinationAccountId', r.destinationAccountId);
    requireText('idempotencyKey', r.idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH);
    assertMinorUnits('amountMinor', r.amountMinor, 1);
    const params: Stripe.TransferCreateParams = {
      amount: r.amountMinor,
      currency: stripeCurrency(r.currency),
      destination: r.destinationAccountId,
      ...(r.description ? { description: r.description } : {}),
      ...(r.metadata ? { metadata: r.metadata } : {}),
    };
    // As with refunds, only the idempotency key tells a retry from a second transfer of the same amount.
    let created: Stripe.Transfer;
    try {
      created = await stripe.transfers.create(params, { idempotencyKey: r.idempotencyKey });
    } catch (err) {
      throw toPortError(err, 'transfer', log);
    }
    log.info('transfer created', {
      transferId: created.id,
      destination: r.destinationAccountId,
      amountMinor: created.amount,
    });
    return { transferId: created.id, amountMinor: created.amount };
  }

  return { name: 'stripe', authorize, capture, cancel, refund, transfer };
}
