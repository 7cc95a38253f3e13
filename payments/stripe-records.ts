// Stripe's side of the books, behind the provider-records port: signed webhooks verified and translated, and
// Stripe's own lists of payments, refunds, disputes and balance transactions for reconciliation.
import Stripe from 'stripe';
import { type Logger, logger as rootLogger } from '../config/logger';
import {
  type CreatedRange,
  type ProviderBalanceTransaction,
  type ProviderDispute,
  type ProviderEvent,
  type ProviderPayment,
  type ProviderRecords,
  type ProviderRefund,
  WebhookSignatureError,
} from './provider-records';
import {
  asObject,
  chargeReference,
  embeddedRefunds,
  integer,
  isoTime,
  malformed,
  text,
  toBalanceTransaction,
  toDispute,
  toPayment,
  toRefund,
} from './stripe-records-mapping';

export interface StripeRecordsOptions {
  /** The endpoint's signing secret (`whsec_...`). */
  webhookSecret: string;
  /** How old a signature may be, against replays; Stripe's default is 300 s. */
  toleranceSeconds?: number;
  logger?: Logger;
}

const DEFAULT_TOLERANCE_SECONDS = 300;
// Stripe's maximum page size: fewest round trips for a reconciliation run.
const PAGE_SIZE = 100;

/** The SDK's messages are long and generic; these say what is wrong with this delivery. */
function signatureProblem(err: Stripe.errors.StripeSignatureVerificationError, tolerance: number): string {
  const message = err.message;
  if (message.includes('Timestamp outside the tolerance zone')) {
    return `the signature is older than the ${tolerance} s tolerance (a delayed or replayed delivery)`;
  }
  if (message.includes('No signatures found matching the expected signature')) {
    return 'the signature does not match the body (wrong signing secret, or the body was altered or re-encoded)';
  }
  if (
    message.includes('Unable to extract timestamp') ||
    message.includes('No signatures found with expected')
  ) {
    return 'the Stripe-Signature header is malformed';
  }
  return message.split('\n')[0];
}

/**
 * Provider times are whole seconds, so the range is applied as [floor(from), floor(to)) in unix seconds:
 * consecutive ranges neither overlap nor leave a gap.
 */
function createdRange(range: CreatedRange): { gte: number; lt: number } {
  for (const [name, value] of [
    ['from', range.from],
    ['to', range.to],
  ] as const) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new Error(`created range: ${name} must be a valid Date`);
    }
  }
  return { gte: Math.floor(range.from.getTime() / 1000), lt: Math.floor(range.to.getTime() / 1000) };
}

function isEmpty(created: { gte: number; lt: number }): boolean {
  return created.gte >= created.lt;
}

/** The event's `data.object`, which every event type carries. */
function dataObject(event: Record<string, unknown>): Record<string, unknown> {
  const data = asObject(event.data, 'event.data');
  return asObject(data.object, 'event.data.object');
}

function translate(value: unknown): ProviderEvent {
  const event = asObject(value, 'event');
  const providerType = text(event, 'type', 'event');
  const base = {
    eventId: text(event, 'id', 'event'),
    providerType,
    created: isoTime(event, 'created', 'event'),
  };
  switch (providerType) {
    case 'payment_intent.succeeded':
      return { ...base, kind: 'payment.succeeded', payment: toPayment(dataObject(event)) };
    case 'payment_intent.canceled':
      return { ...base, kind: 'payment.canceled', payment: toPayment(dataObject(event)) };
    case 'payment_intent.payment_failed': {
      const intent = dataObject(event);
      const error = intent.last_payment_error;
      const failure = error === null || error === undefined ? {} : asObject(error, 'last_payment_error');
      const code = [failure.decline_code, failure.code].find((c) => typeof c === 'string' && c !== '');
      const message = typeof failure.message === 'string' && failure.message ? failure.message : undefined;
      return {
        ...base,
        kind: 'payment.failed',
        payment: toPayment(intent),
        code: (code as string | undefined) ?? 'payment_failed',
        message: message ?? 'The payment failed without a reason from Stripe.',
      };
    }
    case 'charge.refunded': {
      const charge = dataObject(event);
      return {
        ...base,
        kind: 'charge.refunded',
        ...chargeReference(charge, 'charge'),
        amountRefundedMinor: integer(charge, 'amount_refunded', 'charge'),
        currency: text(charge, 'currency', 'charge'),
        refunds: embeddedRefunds(charge, 'charge'),
      };
    }
    case 'charge.dispute.created':
      return { ...base, kind: 'dispute.opened', dispute: toDispute(dataObject(event)) };
    case 'charge.dispute.closed':
      return { ...base, kind: 'dispute.closed', dispute: toDispute(dataObject(event)) };
    default:
      return { ...base, kind: 'ignored' };
  }
}

export function createStripeRecords(stripe: Stripe, opts: StripeRecordsOptions): ProviderRecords {
  if (typeof opts.webhookSecret !== 'string' || opts.webhookSecret.trim() === '') {
    throw new Error('createStripeRecords: webhookSecret is required');
  }
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isInteger(tolerance) || tolerance <= 0) {
    throw new Error(
      `createStripeRecords: toleranceSeconds must be a positive integer, got ${String(tolerance)}`,
    );
  }
  const log = (opts.logger ?? rootLogger).child({ component: 'payments.stripe-records' });

  function verifyWebhook(rawBody: string | Buffer, signatureHeader: string | undefined): ProviderEvent {
    if (signatureHeader === undefined || signatureHeader.trim() === '') {
      throw new WebhookSignatureError('Stripe webhook rejected: the Stripe-Signature header is missing');
    }
    let event: unknown;
    try {
      event = stripe.webhooks.constructEvent(rawBody, signatureHeader, opts.webhookSecret, tolerance);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
        const problem = signatureProblem(err, tolerance);
        log.warn('stripe webhook signature rejected', { problem });
        throw new WebhookSignatureError(`Stripe webhook rejected: ${problem}`, { cause: err });
      }
      // The signature verified, so the sender had the secret; the body itself cannot be read.
      if (err instanceof SyntaxError) throw malformed('event', 'the body is not JSON');
      throw err;
    }
    const translated = translate(event);
    if (translated.kind === 'ignored') {
      log.debug('stripe webhook ignored', { eventId: translated.eventId, type: translated.providerType });
    }
    return translated;
  }

  async function* listPayments(range: CreatedRange): AsyncIterable<ProviderPayment> {
    const created = createdRange(range);
    if (isEmpty(created)) return;
    for await (const intent of stripe.paymentIntents.list({ created, limit: PAGE_SIZE })) {
      yield toPayment(intent);
    }
  }

  async function* listRefunds(query: CreatedRange | { paymentId: string }): AsyncIterable<ProviderRefund> {
    let params: Stripe.RefundListParams;
    if ('paymentId' in query) {
      if (typeof query.paymentId !== 'string' || query.paymentId === '') {
        throw new Error('listRefunds: paymentId must be a non-empty string');
      }
      params = { payment_intent: query.paymentId, limit: PAGE_SIZE };
    } else {
      const created = createdRange(query);
      if (isEmpty(created)) return;
      params = { created, limit: PAGE_SIZE };
    }
    for await (const refund of stripe.refunds.list(params)) yield toRefund(refund);
  }

  async function* listDisputes(range: CreatedRange): AsyncIterable<ProviderDispute> {
    const created = createdRange(range);
    if (isEmpty(created)) return;
    for await (const dispute of stripe.disputes.list({ created, limit: PAGE_SIZE })) yield toDispute(dispute);
  }

  async function* listBalanceTransactions(range: CreatedRange): AsyncIterable<ProviderBalanceTransaction> {
    const created = createdRange(range);
    if (isEmpty(created)) return;
    // Expanding the source names the payment behind each transaction without a request per transaction.
    const list = stripe.balanceTransactions.list({ created, limit: PAGE_SIZE, expand: ['data.source'] });
    for await (const txn of list) yield toBalanceTransaction(txn);
  }

  return { verifyWebhook, listPayments, listRefunds, listDisputes, listBalanceTransactions };
}
