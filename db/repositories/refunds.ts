import type { Knex } from 'knex';
import { refundObject, type RefundRecord } from '../../events/payloads';
import { newId } from '../ids';
import { type Actor, appendAudit } from './auditLog';
import { recordEvent } from './events';

// Money returned from a captured payment, whether we refunded it (an exemption) or learnt of it from the
// payment provider (a refund made in its dashboard). Keyed by the provider's refund id, so hearing of the
// same refund twice, from both sides or from a repeated webhook, records it once.

export interface NewRefund {
  organizationId: string;
  paymentId: string;
  sessionId: string;
  providerRefundId: string;
  amount: string;
  currency: string;
  status: string;
  reason: string | null;
  source: 'exemption' | 'provider';
  exemptionId?: string | null;
  actor: Actor;
}

/** Runs inside the caller's transaction; answers whether the refund was new. */
export async function recordRefund(trx: Knex, r: NewRefund): Promise<boolean> {
  const [row]: RefundRecord[] = await trx('refunds')
    .insert({
      id: newId('re'),
      organization_id: r.organizationId,
      payment_id: r.paymentId,
      provider_refund_id: r.providerRefundId,
      amount: r.amount,
      currency: r.currency,
      status: r.status,
      reason: r.reason,
      source: r.source,
      exemption_id: r.exemptionId ?? null,
    })
    .onConflict('provider_refund_id')
    .ignore()
    .returning('*');
  if (!row) return false;
  const object = refundObject(row, r.sessionId);
  await recordEvent(trx, {
    organizationId: r.organizationId,
    type: 'refund.created',
    objectType: 'refund',
    objectId: row.id,
    object,
  });
  await appendAudit(trx, {
    organizationId: r.organizationId,
    actor: r.actor,
    action: 'refund.created',
    objectType: 'refund',
    objectId: row.id,
    after: object,
  });
  return true;
}

export async function listRefundsOfPayment(db: Knex, paymentId: string): Promise<RefundRecord[]> {
  return db<RefundRecord>('refunds').where({ payment_id: paymentId }).orderBy('created_at');
}
