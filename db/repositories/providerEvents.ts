import type { Knex } from 'knex';
import { disputeObject, type DisputeRecord } from '../../events/payloads';
import type { ProviderDispute, ProviderEvent, ProviderRefund } from '../../payments/provider-records';
import { formatMoney, fromMinorUnits } from '../../pricing/money';
import { newId } from '../ids';
import type { Actor } from './auditLog';
import { recordEvent } from './events';
import { findPaymentByProviderId, type PaymentRow, upsertPayment } from './payments';
import { recordRefund } from './refunds';

// What a payment-provider webhook changes here. Each provider event is applied once: its id is recorded in
// the transaction that applies it, so a redelivery finds it and changes nothing. Events about payments that
// are not ours (another platform on the same account) are recorded and ignored.

export type ProviderEventOutcome = 'applied' | 'unchanged' | 'duplicate' | 'ignored' | 'unknown_payment';

const PROVIDER: Actor = { type: 'provider', id: 'stripe' };

const amountOf = (minor: number, currency: string) => {
  const code = currency.toUpperCase();
  return { amount: formatMoney(fromMinorUnits(minor, code), code), currency: code };
};

async function applyDispute(
  trx: Knex,
  payment: PaymentRow,
  d: ProviderDispute,
  closed: boolean,
): Promise<ProviderEventOutcome> {
  const money = amountOf(d.amountMinor, d.currency);
  const [opened]: DisputeRecord[] = await trx('disputes')
    .insert({
      id: newId('dp'),
      organization_id: payment.organization_id,
      payment_id: payment.id,
      provider_dispute_id: d.disputeId,
      ...money,
      status: d.status,
      reason: d.reason,
      opened_at: new Date(d.created),
    })
    .onConflict('provider_dispute_id')
    .ignore()
    .returning('*');
  let row =
    opened ?? (await trx<DisputeRecord>('disputes').where({ provider_dispute_id: d.disputeId }).first())!;
  if (opened) {
    await recordEvent(trx, {
      organizationId: payment.organization_id,
      type: 'dispute.opened',
      objectType: 'dispute',
      objectId: row.id,
      object: disputeObject(row, payment.session_id),
    });
  }
  if (!closed) return opened ? 'applied' : 'unchanged';
  [row] = await trx('disputes')
    .where({ id: row.id })
    .update({ status: d.status, closed_at: trx.raw('COALESCE(closed_at, now())') })
    .returning('*');
  await recordEvent(trx, {
    organizationId: payment.organization_id,
    type: 'dispute.closed',
    objectType: 'dispute',
    objectId: row.id,
    object: disputeObject(row, payment.session_id),
  });
  return 'applied';
}

async function applyRefunds(
  trx: Knex,
  payment: PaymentRow,
  refunds: ProviderRefund[],
): Promise<ProviderEventOutcome> {
  let added = 0;
  for (const r of refunds) {
    if (r.status === 'failed' || r.status === 'canceled') continue;
    const money = amountOf(r.amountMinor, r.currency);
    const isNew = await recordRefund(trx, {
      organizationId: payment.organization_id,
      paymentId: payment.id,
      sessionId: payment.session_id,
      providerRefundId: r.refundId,
      ...money,
      status: r.status,
      reason: r.reason,
      source: 'provider',
      actor: PROVIDER,
    });
    if (isNew) added++;
  }
  return added > 0 ? 'applied' : 'unchanged';
}

async function applyPayment(trx: Knex, payment: PaymentRow, e: ProviderEvent): Promise<ProviderEventOutcome> {
  const base = {
    organizationId: payment.organization_id,
    sessionId: payment.session_id,
    provider: payment.provider,
    currency: payment.currency,
    actor: PROVIDER,
  };
  if (e.kind === 'payment.succeeded') {
    if (payment.status === 'captured') return 'unchanged';
    const captured = amountOf(e.payment.amountCapturedMinor, e.payment.currency);
    await upsertPayment(trx, { ...base, status: 'captured', amountCaptured: captured.amount });
    return 'applied';
  }
  // A hold that failed or was released after the fact; a captured payment keeps its status.
  if (payment.status !== 'authorized') return 'unchanged';
  if (e.kind === 'payment.failed') {
    await upsertPayment(trx, { ...base, status: 'failed', failureCode: e.code, failureMessage: e.message });
  } else {
    await upsertPayment(trx, { ...base, status: 'canceled' });
  }
  return 'applied';
}

function paymentIdOf(e: ProviderEvent): string | undefined {
  switch (e.kind) {
    case 'payment.succeeded':
    case 'payment.failed':
    case 'payment.canceled':
      return e.payment.paymentId;
    case 'charge.refunded':
      return e.paymentId;
    case 'dispute.opened':
    case 'dispute.closed':
      return e.dispute.paymentId;
    default:
      return undefined;
  }
}

/**
 * Applies one verified provider event. `refunds` are the payment's refunds when the event is a refund
 * whose body did not embed them (the caller lists them before, so no network call holds the transaction).
 */
export async function applyProviderEvent(
  db: Knex,
  e: ProviderEvent,
  refunds: ProviderRefund[] = [],
): Promise<ProviderEventOutcome> {
  return db.transaction(async (trx) => {
    const [claimed] = await trx('provider_events')
      .insert({ id: e.eventId, provider: 'stripe', type: e.providerType, outcome: 'applying' })
      .onConflict('id')
      .ignore()
      .returning('id');
    if (!claimed) return 'duplicate';
    const paymentId = paymentIdOf(e);
    const payment = paymentId ? await findPaymentByProviderId(trx, paymentId) : undefined;
    let outcome: ProviderEventOutcome;
    if (e.kind === 'ignored') outcome = 'ignored';
    else if (!payment) outcome = 'unknown_payment';
    else if (e.kind === 'charge.refunded')
      outcome = await applyRefunds(trx, payment, e.refunds.length ? e.refunds : refunds);
    else if (e.kind === 'dispute.opened' || e.kind === 'dispute.closed') {
      outcome = await applyDispute(trx, payment, e.dispute, e.kind === 'dispute.closed');
    } else outcome = await applyPayment(trx, payment, e);
    await trx('provider_events').where({ id: e.eventId }).update({ outcome });
    return outcome;
  });
}
