// The payment-provider port. Workflows and activities depend on this file only, so Stripe can be
// swapped for another provider (or the fake) without touching billing code.
//
// Money crosses the port as integer minor units: pricing rounds to the currency's minor unit once,
// and the provider must charge exactly that figure, never a float derived from it.

export interface AuthorizeRequest {
  amountMinor: number;
  /** ISO 4217 code in either case; adapters normalise it to what their provider expects. */
  currency: string;
  paymentMethodId: string;
  customerId?: string;
  /** Derived from business ids (e.g. the session), so a retried activity never authorizes twice. */
  idempotencyKey: string;
  description?: string;
  metadata?: Record<string, string>;
}

export type AuthorizeResult =
  | { outcome: 'authorized'; paymentId: string; amountCapturableMinor: number }
  | { outcome: 'declined'; paymentId?: string; code: string; message: string };

export interface CaptureRequest {
  paymentId: string;
  amountMinor: number;
  idempotencyKey: string;
}

export interface CaptureResult {
  paymentId: string;
  amountCapturedMinor: number;
  status: 'captured';
}

export interface CancelRequest {
  paymentId: string;
  idempotencyKey: string;
}

export interface CancelResult {
  paymentId: string;
  status: 'canceled';
}

export type RefundReason = 'requested_by_customer' | 'duplicate' | 'fraudulent';

export interface RefundRequest {
  /** The captured payment to refund (the paymentId authorize returned). */
  paymentId: string;
  /** This refund's amount, at least 1 and at most what is captured and not yet refunded. */
  amountMinor: number;
  /**
   * Derived from business ids (e.g. the session and a refund sequence number). A retry with the same key
   * returns the first refund; a new key is a new refund, so two partial refunds need two keys.
   */
  idempotencyKey: string;
  reason?: RefundReason;
  metadata?: Record<string, string>;
}

export interface RefundResult {
  refundId: string;
  paymentId: string;
  /** The amount of this refund, not the running total refunded on the payment. */
  amountRefundedMinor: number;
  /** `pending` when the provider accepted the refund but has not completed it yet. */
  status: 'succeeded' | 'pending';
}

export interface TransferRequest {
  /** The connected account the money goes to (a Stripe Connect `acct_...`). */
  destinationAccountId: string;
  /** At least 1; moved from the platform's balance to the connected account. */
  amountMinor: number;
  currency: string;
  /**
   * Derived from business ids (e.g. `payout:<party_id>:<yyyy-mm>`), so a retried activity transfers once: a
   * retry with the same key returns the first transfer.
   */
  idempotencyKey: string;
  description?: string;
  metadata?: Record<string, string>;
}

export interface TransferResult {
  transferId: string;
  amountMinor: number;
}

/**
 * Contract for errors: a card decline is a business outcome and comes back as `outcome: 'declined'`;
 * transient trouble (network, timeouts, 429, 5xx) is thrown as an ordinary Error so the Temporal
 * activity retries it with the same idempotency key; a refusal that retrying cannot fix is thrown
 * as PaymentRejectedError, which callers mark non-retryable.
 */
export interface PaymentProvider {
  readonly name: string;
  authorize(r: AuthorizeRequest): Promise<AuthorizeResult>;
  capture(r: CaptureRequest): Promise<CaptureResult>;
  cancel(r: CancelRequest): Promise<CancelResult>;
  /**
   * Returns part or all of a captured payment. A payment that was never captured cannot be refunded (cancel
   * releases the hold), nor can more than remains unrefunded: both are PaymentRejectedError.
   */
  refund(r: RefundRequest): Promise<RefundResult>;
  /**
   * Pays a connected account (a revenue-sharing payout). An unknown or unusable destination, or a balance
   * too low to pay from, is PaymentRejectedError.
   */
  transfer(r: TransferRequest): Promise<TransferResult>;
}

/**
 * A non-transient provider refusal (capture above capturable, refund above what remains, invalid state,
 * bad parameter, unknown transfer destination).
 */
export class PaymentRejectedError extends Error {
  override readonly name = 'PaymentRejectedError';

  constructor(
    /** The provider's own error code, e.g. Stripe's `amount_too_large`. */
    readonly code: string,
    message: string,
    /** HTTP status the provider answered with, when there was one. */
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/**
 * Guards the integer-minor-units rule before any request leaves the process. A fractional or unsafe
 * amount is a caller bug that retrying cannot fix, hence PaymentRejectedError rather than a plain Error.
 */
export function assertMinorUnits(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new PaymentRejectedError(
      'invalid_amount',
      `${field} must be an integer number of minor units >= ${min}, got ${String(value)}`,
    );
  }
}
