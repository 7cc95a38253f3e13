import type { Knex } from 'knex';
import { type MovementKind, recordMovement } from '../db/repositories/paymentMovements';
import { formatMoney, toMinorUnits } from '../pricing/money';
import type { ResolvedDeps } from './deps';
import { ApiError, missingParam } from './errors';
import { type Body, optionalString } from './validation';

// Charging a driver's card from the API (a debt paid, a wallet topped up): the card given in the request,
// else the saved one, charged through the payment port to the user's payment customer.

/** The card to charge: `payment_method_id` from the body, else the user's saved one. */
export function cardToCharge(body: Body, saved: string | null | undefined): string {
  const given = optionalString(body, 'payment_method_id', {
    max: 255,
    pattern: /^pm_[A-Za-z0-9_]+$/,
    patternMessage: 'must be a payment method id (pm_...)',
  });
  const card = given ?? saved;
  if (!card) throw missingParam('payment_method_id');
  return card;
}

export interface CardCharge {
  organizationId: string;
  sessionId: string | null;
  userId: string;
  customerId: string | null;
  paymentMethodId: string;
  amount: string;
  currency: string;
  idempotencyKey: string;
  /** The movement a refusal is recorded as; the caller records the success its own way. */
  kind: MovementKind;
  description: string;
  metadata: Record<string, string>;
}

/** Answers the provider's payment id; a refused card is recorded and answered 402 `card_error`. */
export async function chargeCard(
  deps: ResolvedDeps,
  db: Knex,
  c: CardCharge,
): Promise<{ paymentId: string }> {
  const payments = deps.payments;
  if (!payments)
    throw new ApiError(503, 'api_error', 'payments_unavailable', 'Payments are not configured here.');
  if (!c.customerId) {
    throw new ApiError(
      409,
      'invalid_request_error',
      'no_payment_customer',
      `User ${c.userId} has no payment customer to charge.`,
    );
  }
  const amountMinor = toMinorUnits(c.amount, c.currency);
  const result = await payments.chargeOffSession({
    customerId: c.customerId,
    paymentMethodId: c.paymentMethodId,
    amountMinor,
    currency: c.currency,
    idempotencyKey: c.idempotencyKey,
    description: c.description,
    metadata: c.metadata,
  });
  if (result.outcome === 'charged') return { paymentId: result.paymentId };
  await recordMovement(db, {
    organizationId: c.organizationId,
    sessionId: c.sessionId,
    userId: c.userId,
    kind: c.kind,
    status: result.outcome,
    amount: formatMoney(c.amount, c.currency),
    amountMinor,
    currency: c.currency,
    providerReference: result.paymentId ?? null,
    idempotencyKey: c.idempotencyKey,
    detail: { code: result.code, message: result.message, payment_method_id: c.paymentMethodId },
  });
  throw new ApiError(
    402,
    'card_error',
    result.outcome,
    `The card was not charged: ${result.message}`,
    'payment_method_id',
  );
}
