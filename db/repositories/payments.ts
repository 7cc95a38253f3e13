import type { Knex } from 'knex';
import { newId } from '../ids';

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
  const [row] = await db<PaymentRow>('payments')
    .insert({ id: newId('pay'), ...values })
    .onConflict('session_id')
    .merge(Object.keys(values).filter((k) => k !== 'session_id') as (keyof PaymentRow)[])
    .returning('*');
  return row;
}

export async function findPaymentBySession(db: Knex, sessionId: string): Promise<PaymentRow | undefined> {
  return db<PaymentRow>('payments').where({ session_id: sessionId }).first();
}
