// Stripe's failures in the port's terms. The workflow acts on the kind, not on Stripe's wording: transient
// trouble is retried (a plain Error), a hold that is gone is HoldGoneError, an amount above what the payment
// allows is AmountTooLargeError, any other refusal PaymentRejectedError; declines never reach here, each
// operation turns them into its outcome.
import Stripe from 'stripe';
import { type Logger } from '../config/logger';
import { AmountTooLargeError, HoldGoneError, PaymentRejectedError } from './port';

// Stripe's documented maximum idempotency key length.
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export function requireText(field: string, value: string, maxLength = Infinity): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new PaymentRejectedError(
      'invalid_request',
      `${field} must be a non-empty string of at most ${maxLength} characters`,
    );
  }
}

/** Every money-moving call carries our key: the SDK's own is random per call and survives no retry. */
export function requireIdempotencyKey(key: string): void {
  requireText('idempotencyKey', key, MAX_IDEMPOTENCY_KEY_LENGTH);
}

export function stripeCurrency(currency: string): string {
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

// Stripe's codes for a capture after the authorization lapsed.
const EXPIRED_CODES = new Set(['charge_expired_for_capture', 'capture_charge_authorization_expired']);

/** The hold expired, or the intent was canceled (released, or swept by Stripe at the deadline). */
export function isHoldGone(err: Stripe.errors.StripeError): boolean {
  if (err.code !== undefined && EXPIRED_CODES.has(err.code)) return true;
  return err.code === 'payment_intent_unexpected_state' && err.payment_intent?.status === 'canceled';
}

/** The PaymentIntent Stripe attaches to an error about one, when it did. */
export function intentOf(err: unknown): Stripe.PaymentIntent | undefined {
  return err instanceof Stripe.errors.StripeError ? err.payment_intent : undefined;
}

/** A card decline's code (the issuer's reason when Stripe gives one) and message. */
export function declineOf(err: unknown): { code: string; message: string } | undefined {
  if (!(err instanceof Stripe.errors.StripeCardError)) return undefined;
  return { code: err.decline_code || err.code || 'card_declined', message: err.message };
}

export function isAuthenticationRequired(code: string | undefined): boolean {
  return code === 'authentication_required';
}

/**
 * Translates an SDK failure into the port's contract: transient trouble becomes a plain Error, which the
 * Temporal activity retries; a refusal becomes PaymentRejectedError (or a subclass), which it must not retry.
 */
export function toPortError(err: unknown, operation: string, log: Logger): Error {
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
  const message = `Stripe refused ${operation}: ${err.message}`;
  if (isHoldGone(err)) return new HoldGoneError(code, message, err.statusCode);
  if (code === 'amount_too_large') return new AmountTooLargeError(code, message, err.statusCode);
  return new PaymentRejectedError(code, message, err.statusCode);
}
