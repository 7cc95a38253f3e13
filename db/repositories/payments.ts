import type { Knex } from 'knex';
import { paymentObject } from '../../events/payloads';
import type { EventType } from '../../events/types';
import { newId } from '../ids';
import { type Actor, appendAudit, SYSTEM } from './auditLog';
import { recordEvent } from './events';

export type PaymentStatus = 'authorized' | 'declined' | 'captured' | 'canceled' | 'failed';

export interface PaymentRow {
  id: string;
  organization_id: string;
  session_id: string;
  provider: string;
  provider_payment_id: string | null;
  status: PaymentStatus;
  currency: string;
  amount_authorized: string;
  amount_captured: string;
  failure_code: string | null;
  failure_message: string | null;
  captured_at: Date | null;
}

export interface PaymentUpdate {
  organizationId: string;
  sessionId: string;
  provider: string;
  providerPaymentId?: string | null;
  status: PaymentStatus;
  currency: string;
  amountAuthorized?: string;
  amountCaptured?: string;
  failureCode?: string | null;
  failureMessage?: string | null;
  /** Who made the change, for the audit log; the billing engine unless the provider told us. */
  actor?: Actor;
}

/** One payment per session, keyed by the session id so a retried activity updates instead of duplicating. */
export async function upsertPayment(db: Knex, p: PaymentUpdate): Promise<PaymentRow> {
  const values: Record<string, unknown> = {
    organization_id: p.organizationId,
    session_id: p.sessionId,
    provider: p.provider,
    status: p.status,
    currency: p.currency,
    updated_at: db.fn.now(),
  };
  if (p.providerPaymentId !== undefined) values.provider_payment_id = p.providerPaymentId;
  if (p.amountAuthorized !== undefined) values.amount_authorized = p.amountAuthorized;
  if (p.amountCaptured !== undefined) values.amount_captured = p.amountCaptured;
  if (p.failureCode !== undefined) values.failure_code = p.failureCode;
  if (p.failureMessage !== undefined) values.failure_message = p.failureMessage;
  if (p.status === 'captured') values.captured_at = db.fn.now();
  return db.transaction(async (trx) => {
    const before = await trx<PaymentRow>('payments').where({ session_id: p.sessionId }).forUpdate().first();
    // A repeated capture keeps the time of the first.
    if (before?.status === 'captured' && p.status === 'captured') delete values.captured_at;
    const [row] = await trx<PaymentRow>('payments')
      .insert({ id: newId('pay'), ...values })
      .onConflict('session_id')
      .merge(Object.keys(values).filter((k) => k !== 'session_id') as (keyof PaymentRow)[])
      .returning('*');
    const type = EVENT_OF_STATUS[row.status];
    await recordEvent(trx, {
      organizationId: row.organization_id,
      type,
      objectType: 'payment',
      objectId: row.id,
      object: paymentObject(row),
    });
    if (row.status === 'captured' && before?.status !== 'captured') {
      await appendAudit(trx, {
        organizationId: row.organization_id,
        actor: p.actor ?? SYSTEM,
        action: 'payment.captured',
        objectType: 'payment',
        objectId: row.id,
        before: before ? paymentObject(before) : null,
        after: paymentObject(row),
      });
    }
    return row;
  });
}

const EVENT_OF_STATUS: Record<PaymentStatus, EventType> = {
  authorized: 'payment.authorized',
  captured: 'payment.captured',
  declined: 'payment.failed',
  failed: 'payment.failed',
  canceled: 'payment.canceled',
};

export async function findPaymentBySession(db: Knex, sessionId: string): Promise<PaymentRow | undefined> {
  return db<PaymentRow>('payments').where({ session_id: sessionId }).first();
}

export async function findPaymentByProviderId(
  db: Knex,
  providerPaymentId: string,
): Promise<PaymentRow | undefined> {
  return db<PaymentRow>('payments').where({ provider_payment_id: providerPaymentId }).first();
}

/** Holds still authorized whose session ended more than `olderThanMs` ago. */
export async function strayHolds(db: Knex, olderThanMs: number): Promise<PaymentRow[]> {
  return db('payments as p')
    .join('charging_sessions as s', 's.id', 'p.session_id')
    .where('p.status', 'authorized')
    .whereNotNull('p.provider_payment_id')
    .whereIn('s.status', ['completed', 'unbilled'])
    .where('s.updated_at', '<', new Date(Date.now() - olderThanMs))
    .select('p.*')
    .limit(500);
}
