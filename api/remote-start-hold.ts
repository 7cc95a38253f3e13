import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { paymentModeOf } from '../activities/charging-session';
import { releasePreAuthorization } from '../activities/pre-authorization';
import type { ChargePoint } from '../db/repositories/chargePoints';
import { holdFor } from '../db/repositories/holdPolicies';
import { recordMovement } from '../db/repositories/paymentMovements';
import {
  newPreAuthorizationId,
  type PreAuthorization,
  recordPreAuthorization,
} from '../db/repositories/preAuthorizations';
import { findPayerContext } from '../db/repositories/sessions';
import { resolveTariffForSession } from '../db/repositories/tariffs';
import { Dec, formatMoney, toMinorUnits } from '../pricing/money';
import type { ResolvedDeps } from './deps';
import { BILLING_KIND } from '../workflows/search-attributes';
import { ApiError } from './errors';

// A remote start for a card payer holds the money first, so the session the charge point starts has its
// hold from its first second; the session adopts it at StartTransaction. A start that is refused (or not
// sent) releases it at once, one that never comes is released by its expiry workflow.

export interface PreAuthorizationControl {
  /** How long the hold waits for its StartTransaction. */
  timeoutMs: number;
  scheduleExpiry(preAuthorizationId: string, expiresAt: Date): Promise<void>;
}

/** The hold for a remote start, or undefined when the driver does not pay by card here. */
export async function holdForRemoteStart(
  deps: ResolvedDeps,
  db: Knex,
  cp: ChargePoint,
  idTag: string,
): Promise<PreAuthorization | undefined> {
  const { payments, preAuthorizations: control } = deps;
  if (!payments || !control) return undefined;
  const payer = await findPayerContext(db, cp.organizationId, cp.id, idTag);
  if (!payer.userId || paymentModeOf(payer, false) !== 'card') return undefined;
  const tariff = await resolveTariffForSession(db, {
    chargePointId: cp.id,
    userType: payer.userType,
    at: new Date(),
  });
  if (!tariff) return undefined;
  const { amount } = await holdFor(db, {
    organizationId: cp.organizationId,
    chargePointId: cp.id,
    userType: payer.userType,
    currency: tariff.currency,
    fallback: payer.holdAmount,
  });
  if (!new Dec(amount).gt(0)) return undefined;
  const id = newPreAuthorizationId();
  const idempotencyKey = `pre-authorization:${id}:authorize`;
  const result = await payments.authorize({
    amountMinor: toMinorUnits(amount, tariff.currency),
    currency: tariff.currency,
    paymentMethodId: payer.paymentMethodId!,
    customerId: payer.paymentCustomerId ?? undefined,
    idempotencyKey,
    description: `EV charging: remote start at ${cp.identity}`,
    metadata: { pre_authorization_id: id, organization_id: cp.organizationId },
  });
  if (result.outcome === 'declined') {
    throw new ApiError(
      402,
      'card_error',
      'hold_declined',
      `The driver's card refused the hold: ${result.message}`,
      'id_tag',
    );
  }
  const held = await recordPreAuthorization(db, {
    id,
    organizationId: cp.organizationId,
    chargePointId: cp.id,
    idTag,
    userId: payer.userId,
    providerPaymentId: result.paymentId,
    amount: formatMoney(amount, tariff.currency),
    currency: tariff.currency,
    expiresAt: new Date(Date.now() + control.timeoutMs),
  });
  await recordMovement(db, {
    organizationId: cp.organizationId,
    sessionId: null,
    userId: payer.userId,
    kind: 'authorization',
    status: 'succeeded',
    amount: held.amount,
    amountMinor: result.amountCapturableMinor,
    currency: held.currency,
    providerReference: result.paymentId,
    idempotencyKey,
    detail: { pre_authorization_id: id, ...(result.card ? { card: result.card } : {}) },
  });
  try {
    await control.scheduleExpiry(id, held.expiresAt);
  } catch (err) {
    await releasePreAuthorization(db, payments, id);
    throw err;
  }
  return held;
}

/** The charge point did not take the start: the hold goes back at once. */
export async function releaseRemoteStartHold(
  deps: ResolvedDeps,
  db: Knex,
  hold: PreAuthorization | undefined,
) {
  if (hold && deps.payments) await releasePreAuthorization(db, deps.payments, hold.id);
}

export function createPreAuthorizationControl(
  client: Client,
  opts: { taskQueue: string; timeoutMs: number },
): PreAuthorizationControl {
  return {
    timeoutMs: opts.timeoutMs,
    async scheduleExpiry(preAuthorizationId, expiresAt) {
      await client.workflow.start('preAuthorizationExpiry', {
        workflowId: `pre-authorization:${preAuthorizationId}`,
        taskQueue: opts.taskQueue,
        args: [{ preAuthorizationId, expiresAt: expiresAt.toISOString() }],
        typedSearchAttributes: [{ key: BILLING_KIND, value: 'pre-authorization' }],
      });
    },
  };
}
