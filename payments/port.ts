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
  /**
   * Ask for a hold that increment() can raise later (default true). The card may still not offer it: the
   * result's `incrementalAuthorization` says whether this hold got it.
   */
  incrementalAuthorization?: boolean;
  /** Ask for a hold that capture({ final: false }) can capture in parts (default false). */
  multicapture?: boolean;
  /**
   * Keep the payment method for later off-session charges of the same customer, such as the difference
   * when the price outgrows the hold (default true; needs `customerId`). Providers that cannot save a
   * method during a merchant-initiated payment then treat the hold as customer-initiated.
   */
  saveForOffSession?: boolean;
}

/** The card a payment was made with, as the provider reported it: for a receipt that says how it was paid. */
export interface CardSummary {
  /** The card network in the provider's lower-case spelling: `visa`, `mastercard`, `amex`, `discover`, ... */
  brand: string;
  /** The last four digits of the card number. */
  last4: string;
}

export type AuthorizeResult =
  | {
      outcome: 'authorized';
      paymentId: string;
      amountCapturableMinor: number;
      /** Whether increment() can be tried on this hold. */
      incrementalAuthorization: boolean;
      /** Whether this hold can be captured in parts. */
      multicapture: boolean;
      /** ISO time the hold must be captured before, as the provider reported it; null when it did not. */
      captureBefore: string | null;
      /** The card that holds the money; absent when the provider did not say (or it was not a card). */
      card?: CardSummary;
    }
  | { outcome: 'declined'; paymentId?: string; code: string; message: string };

export interface CaptureRequest {
  paymentId: string;
  /** At least 1 and at most what the hold still has capturable; more is AmountTooLargeError. */
  amountMinor: number;
  idempotencyKey: string;
  /**
   * Default true: the rest of the hold is released. False keeps the rest capturable for a later capture,
   * which needs a hold authorized with `multicapture` that got it; otherwise the provider refuses
   * (PaymentRejectedError).
   */
  final?: boolean;
}

export interface CaptureResult {
  paymentId: string;
  /** Everything captured on the payment so far, earlier partial captures included. */
  amountCapturedMinor: number;
  /** What the hold still has capturable: 0 after a final capture. */
  amountCapturableMinor: number;
  status: 'captured';
}

export interface IncrementRequest {
  paymentId: string;
  /** The new total of the hold, above what it holds now (not the difference). */
  newAmountMinor: number;
  /** One key per attempt: a retry with the same key replays the first answer, a decline included. */
  idempotencyKey: string;
  metadata?: Record<string, string>;
}

export type IncrementResult =
  | { outcome: 'incremented'; paymentId: string; amountCapturableMinor: number }
  | { outcome: 'declined'; code: string; message: string }
  /**
   * The hold cannot be raised at all: not requested or not offered for this card, or the attempts the
   * provider allows are used up. The hold itself stands, capturable for its previous amount.
   */
  | { outcome: 'unavailable'; code?: string; message?: string };

export interface OffSessionChargeRequest {
  customerId: string;
  /** A payment method saved on the customer for off-session use (see AuthorizeRequest.saveForOffSession). */
  paymentMethodId: string;
  amountMinor: number;
  currency: string;
  /** Derived from business ids (e.g. the session and `delta`), so a retry never charges twice. */
  idempotencyKey: string;
  description?: string;
  metadata?: Record<string, string>;
}

export type OffSessionChargeResult =
  | {
      outcome: 'charged';
      paymentId: string;
      amountMinor: number;
      /** The card charged; absent when the provider did not say (or it was not a card). */
      card?: CardSummary;
    }
  /** `authentication_required`: the issuer wants the cardholder present (3-D Secure); ask them on-session. */
  | {
      outcome: 'declined' | 'authentication_required';
      paymentId?: string;
      code: string;
      message: string;
    };

/** Where a payment stands, in the port's words. */
export type PaymentStatus = 'authorized' | 'captured' | 'released' | 'pending' | 'failed';

export interface PaymentCapabilities {
  incrementalAuthorization: boolean;
  /** Capturing more than was authorized, up to `overcaptureMaxMinor`. */
  overcapture: boolean;
  overcaptureMaxMinor: number | null;
  multicapture: boolean;
  /** Increment attempts the provider allows per payment, declines included; null when it sets none. */
  maxIncrementAttempts: number | null;
  /**
   * ISO time a hold must be captured before. For a payment, what the provider reported on it (it varies
   * by card network and payment type); null without a payment or when the provider did not say.
   */
  captureBefore: string | null;
  /** Only when asked about a payment. */
  payment?: {
    status: PaymentStatus;
    currency: string;
    amountAuthorizedMinor: number;
    amountCapturableMinor: number;
    amountCapturedMinor: number;
  };
}

export interface CancelRequest {
  paymentId: string;
  idempotencyKey: string;
}

export interface CancelResult {
  paymentId: string;
  status: 'canceled';
}

/** A release gives the whole hold back; nothing is captured. */
export type ReleaseRequest = CancelRequest;
export type ReleaseResult = CancelResult;

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
 * Contract for errors: a card decline is a business outcome and comes back as an outcome (`declined`,
 * `authentication_required`, `unavailable`); transient trouble (network, timeouts, 429, 5xx) is thrown as an
 * ordinary Error so the Temporal activity retries it with the same idempotency key; a refusal that retrying
 * cannot fix is thrown as PaymentRejectedError or one of its subclasses (HoldGoneError when the hold
 * expired or was released, AmountTooLargeError), which callers mark non-retryable.
 */
export interface PaymentProvider {
  readonly name: string;
  /**
   * What the provider offers; with a payment id, what that payment got and its capture deadline, read from
   * the provider each time (a hold can be released or expire on the provider's side).
   */
  capabilities(paymentId?: string): Promise<PaymentCapabilities>;
  /** Places a hold (an authorization to capture later). */
  authorize(r: AuthorizeRequest): Promise<AuthorizeResult>;
  /** Raises a hold to a new total. HoldGoneError when the hold has expired or was released. */
  increment(r: IncrementRequest): Promise<IncrementResult>;
  /** Captures part or all of a hold. HoldGoneError when it has expired or was released. */
  capture(r: CaptureRequest): Promise<CaptureResult>;
  /** Gives the whole hold back. Releasing a hold that is already released (or expired) is done, not an error. */
  release(r: ReleaseRequest): Promise<ReleaseResult>;
  /** The same as release(), under its first name. */
  cancel(r: CancelRequest): Promise<CancelResult>;
  /** Charges a saved payment method without the customer present, captured at once. */
  chargeOffSession(r: OffSessionChargeRequest): Promise<OffSessionChargeResult>;
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
  override readonly name: string = 'PaymentRejectedError';

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
 * The hold cannot be captured or raised any more: it expired at its deadline or was released. Retrying cannot
 * bring it back; what was not captured has to be charged another way (off-session) or written off.
 */
export class HoldGoneError extends PaymentRejectedError {
  override readonly name: string = 'HoldGoneError';
}

/** An amount above what the payment allows: more than the hold has capturable, or the provider's ceiling. */
export class AmountTooLargeError extends PaymentRejectedError {
  override readonly name: string = 'AmountTooLargeError';
}

/**
 * Temporal names an activity failure after the error's class, so a retry policy that lists
 * 'PaymentRejectedError' alone would retry its subclasses: list these instead.
 */
export const NON_RETRYABLE_PAYMENT_ERRORS: readonly string[] = [
  'PaymentRejectedError',
  'HoldGoneError',
  'AmountTooLargeError',
];

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
