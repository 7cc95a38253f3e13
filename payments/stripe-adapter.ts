// The Stripe implementation of the payment-provider port, on PaymentIntents with manual capture: a session
// places a hold when it starts, raises it while charging, and captures the priced amount (or releases the
// hold) when it ends (stripe-holds.ts); a difference the hold could not cover is charged off-session to the
// saved card. Payouts to revenue-sharing parties are Stripe Connect transfers.
import Stripe from 'stripe';
import { type Logger, logger as rootLogger } from '../config/logger';
import {
  assertMinorUnits,
  type OffSessionChargeRequest,
  type OffSessionChargeResult,
  type PaymentProvider,
  PaymentRejectedError,
  type RefundReason,
  type RefundRequest,
  type RefundResult,
  type TransferRequest,
  type TransferResult,
} from './port';
import {
  declineOf,
  intentOf,
  isAuthenticationRequired,
  requireIdempotencyKey,
  requireText,
  stripeCurrency,
  toPortError,
} from './stripe-errors';
import { cardField, createStripeHolds, WITH_CHARGE } from './stripe-holds';

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

export function createStripeProvider(stripe: Stripe, options: StripeProviderOptions = {}): PaymentProvider {
  const log = (options.logger ?? rootLogger).child({ component: 'payments.stripe' });

  const holds = createStripeHolds(stripe, log);

  // A saved card charged without the driver, captured at once: the difference the hold could not cover.
  async function chargeOffSession(r: OffSessionChargeRequest): Promise<OffSessionChargeResult> {
    requireText('customerId', r.customerId);
    requireText('paymentMethodId', r.paymentMethodId);
    requireIdempotencyKey(r.idempotencyKey);
    assertMinorUnits('amountMinor', r.amountMinor, 1);
    const params: Stripe.PaymentIntentCreateParams = {
      amount: r.amountMinor,
      currency: stripeCurrency(r.currency),
      customer: r.customerId,
      payment_method: r.paymentMethodId,
      capture_method: 'automatic',
      confirm: true,
      off_session: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      ...(r.description ? { description: r.description } : {}),
      ...(r.metadata ? { metadata: r.metadata } : {}),
      // The charge names the card (brand, last four digits) the receipt shows.
      expand: WITH_CHARGE,
    };
    try {
      const intent = await stripe.paymentIntents.create(params, { idempotencyKey: r.idempotencyKey });
      if (intent.status === 'succeeded' || intent.status === 'processing') {
        // Cards settle synchronously; `processing` belongs to methods that confirm later, and Stripe then
        // reports the result by webhook.
        log.info('charged off-session', { paymentId: intent.id, amountMinor: intent.amount });
        return { outcome: 'charged', paymentId: intent.id, amountMinor: intent.amount, ...cardField(intent) };
      }
      const failure = intent.last_payment_error;
      const needsCustomer = intent.status === 'requires_action';
      const code = needsCustomer
        ? 'authentication_required'
        : failure?.decline_code || failure?.code || intent.status;
      log.info('off-session charge not completed', { paymentId: intent.id, status: intent.status, code });
      return {
        outcome: isAuthenticationRequired(code) ? 'authentication_required' : 'declined',
        paymentId: intent.id,
        code,
        message: needsCustomer
          ? 'The card issuer requires the cardholder to authenticate this payment.'
          : (failure?.message ?? `PaymentIntent is ${intent.status}, not succeeded`),
      };
    } catch (err) {
      const decline = declineOf(err);
      if (decline) {
        const paymentId = intentOf(err)?.id;
        const outcome = isAuthenticationRequired(decline.code) ? 'authentication_required' : 'declined';
        log.info('off-session charge declined', { paymentId, code: decline.code, outcome });
        return { outcome, paymentId, ...decline };
      }
      throw toPortError(err, 'off-session charge', log);
    }
  }

  async function refund(r: RefundRequest): Promise<RefundResult> {
    requireText('paymentId', r.paymentId);
    requireIdempotencyKey(r.idempotencyKey);
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
    requireIdempotencyKey(r.idempotencyKey);
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

  return {
    name: 'stripe',
    capabilities: holds.capabilities,
    authorize: holds.authorize,
    increment: holds.increment,
    capture: holds.capture,
    release: holds.release,
    cancel: holds.release,
    chargeOffSession,
    refund,
    transfer,
  };
}
