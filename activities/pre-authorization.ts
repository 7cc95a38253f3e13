import type { Knex } from 'knex';
import { recordMovement } from '../db/repositories/paymentMovements';
import { findPreAuthorization, markPreAuthorizationReleased } from '../db/repositories/preAuthorizations';
import { HoldGoneError, type PaymentProvider } from '../payments/port';
import { formatMoney, toMinorUnits } from '../pricing/money';

/**
 * Releases a remote start's hold unless its session adopted it. Marking it released first settles the race
 * with a starting session; the provider call after it is idempotent, so a retry after a failed call
 * releases it still. Answers whether the hold is (now) released.
 */
export async function releasePreAuthorization(
  db: Knex,
  payments: PaymentProvider,
  id: string,
): Promise<boolean> {
  const hold = (await markPreAuthorizationReleased(db, id)) ?? (await findPreAuthorization(db, id));
  if (!hold || hold.status !== 'released') return false;
  const idempotencyKey = `pre-authorization:${hold.id}:release`;
  try {
    await payments.release({ paymentId: hold.providerPaymentId, idempotencyKey });
  } catch (err) {
    if (!(err instanceof HoldGoneError)) throw err;
  }
  await recordMovement(db, {
    organizationId: hold.organizationId,
    sessionId: null,
    userId: hold.userId,
    kind: 'release',
    status: 'succeeded',
    amount: formatMoney(hold.amount, hold.currency),
    amountMinor: toMinorUnits(hold.amount, hold.currency),
    currency: hold.currency,
    providerReference: hold.providerPaymentId,
    idempotencyKey,
    detail: { pre_authorization_id: hold.id, reason: 'the remote start did not become a session' },
  });
  return true;
}

export function createPreAuthorizationActivities({ db, payments }: { db: Knex; payments: PaymentProvider }) {
  return {
    async releaseUnusedPreAuthorization(id: string): Promise<boolean> {
      return releasePreAuthorization(db, payments, id);
    },
  };
}

export type PreAuthorizationActivities = ReturnType<typeof createPreAuthorizationActivities>;
