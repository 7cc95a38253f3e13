// What the payment provider tells us after the fact: its webhooks (verified and translated) and its own
// records of payments, refunds, disputes and balance transactions, which reconciliation compares with ours.
// Like port.ts, no provider type leaks past this file: amounts are integer minor units, times ISO strings.

export interface ProviderRefund {
  refundId: string;
  /**
   * The payment (PaymentIntent) the refund returns money from; for a charge made without a PaymentIntent
   * (this platform makes none), the charge id.
   */
  paymentId: string;
  amountMinor: number;
  /** Lower-case ISO 4217, as the provider reports it. */
  currency: string;
  status: 'succeeded' | 'pending' | 'failed' | 'canceled';
  reason: string | null;
  created: string;
  metadata: Record<string, string>;
}

export interface ProviderDispute {
  disputeId: string;
  /** As for refunds: the PaymentIntent, or the charge id for a charge made without one. */
  paymentId: string;
  chargeId: string;
  amountMinor: number;
  currency: string;
  /** The provider's own status, e.g. `needs_response`, `under_review`, `won`, `lost`. */
  status: string;
  reason: string;
  created: string;
}

export interface ProviderPayment {
  paymentId: string;
  chargeId: string | null;
  /** `succeeded` once captured; `requires_capture` while only held; `canceled` when the hold was released. */
  status: string;
  amountMinor: number;
  amountCapturedMinor: number;
  currency: string;
  created: string;
  metadata: Record<string, string>;
}

export interface ProviderBalanceTransaction {
  id: string;
  /** `charge`, `refund`, `payment`, `payment_refund`, `adjustment` (disputes), `stripe_fee`, ... */
  type: string;
  /** The charge, refund or dispute it books, when it has one. */
  sourceId: string | null;
  /** The payment behind the source, when the provider can tell (null for transfers and payouts). */
  paymentId: string | null;
  amountMinor: number;
  feeMinor: number;
  netMinor: number;
  currency: string;
  status: 'available' | 'pending';
  created: string;
  availableOn: string;
}

interface EventBase {
  /** The provider's event id; the same event delivered twice carries the same id. */
  eventId: string;
  /** The provider's event type, e.g. `payment_intent.succeeded`. */
  providerType: string;
  created: string;
}

export type ProviderEvent =
  | (EventBase & { kind: 'payment.succeeded'; payment: ProviderPayment })
  | (EventBase & { kind: 'payment.failed'; payment: ProviderPayment; code: string; message: string })
  | (EventBase & { kind: 'payment.canceled'; payment: ProviderPayment })
  /** Carries the refunds the provider embedded; list them with listRefunds({ paymentId }) for all. */
  | (EventBase & {
      kind: 'charge.refunded';
      paymentId: string;
      chargeId: string;
      amountRefundedMinor: number;
      currency: string;
      refunds: ProviderRefund[];
    })
  | (EventBase & { kind: 'dispute.opened'; dispute: ProviderDispute })
  | (EventBase & { kind: 'dispute.closed'; dispute: ProviderDispute })
  | (EventBase & { kind: 'ignored' });

/** A webhook whose signature does not verify (wrong secret, tampered body, too old, header missing). */
export class WebhookSignatureError extends Error {
  override readonly name = 'WebhookSignatureError';
}

/** Created in [from, to). */
export interface CreatedRange {
  from: Date;
  to: Date;
}

export interface ProviderRecords {
  /** Verifies the signature over the raw body and translates the event; throws WebhookSignatureError. */
  verifyWebhook(rawBody: string | Buffer, signatureHeader: string | undefined): ProviderEvent;
  /** Every page, through the provider's cursor pagination. */
  listPayments(range: CreatedRange): AsyncIterable<ProviderPayment>;
  listRefunds(query: CreatedRange | { paymentId: string }): AsyncIterable<ProviderRefund>;
  listDisputes(range: CreatedRange): AsyncIterable<ProviderDispute>;
  listBalanceTransactions(range: CreatedRange): AsyncIterable<ProviderBalanceTransaction>;
}
