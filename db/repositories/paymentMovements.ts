import type { Knex } from 'knex';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';

// Every money movement of a session, in order: the payment timeline. Keyed by our idempotency key, so the
// activity that made the provider call records its movement once however often it is retried. A release
// of a hold is a movement of its own kind, never a refund (Stripe reports both as refunds).

export type MovementKind =
  | 'authorization'
  | 'increment'
  | 'capture'
  | 'release'
  | 'refund'
  | 'off_session_charge'
  | 'debt'
  | 'debt_payment'
  // The prepaid wallet (db/repositories/wallets.ts); no provider call except a top-up's card charge.
  | 'wallet_reservation'
  | 'wallet_settlement'
  | 'wallet_release'
  | 'wallet_top_up'
  | 'wallet_grant'
  | 'wallet_expiry'
  | 'wallet_adjustment';

export interface NewMovement {
  organizationId: string;
  sessionId: string | null;
  paymentId?: string | null;
  userId?: string | null;
  kind: MovementKind;
  /** `succeeded`, `declined`, `failed`, `open`, ... as the kind calls for. */
  status: string;
  amount: string;
  amountMinor: number;
  currency: string;
  providerReference?: string | null;
  idempotencyKey: string;
  detail?: Record<string, unknown>;
}

export interface Movement {
  id: string;
  sessionId: string | null;
  paymentId: string | null;
  userId: string | null;
  kind: MovementKind;
  status: string;
  amount: string;
  amountMinor: number;
  currency: string;
  providerReference: string | null;
  idempotencyKey: string;
  detail: Record<string, unknown> | null;
  createdAt: Date;
}

export async function recordMovement(db: Knex, m: NewMovement): Promise<void> {
  await db('payment_movements')
    .insert({
      id: newId('mv'),
      organization_id: m.organizationId,
      session_id: m.sessionId,
      payment_id: m.paymentId ?? null,
      user_id: m.userId ?? null,
      kind: m.kind,
      status: m.status,
      amount: m.amount,
      amount_minor: m.amountMinor,
      currency: m.currency,
      provider_reference: m.providerReference ?? null,
      idempotency_key: m.idempotencyKey,
      detail: m.detail === undefined ? null : JSON.stringify(m.detail),
    })
    .onConflict('idempotency_key')
    .ignore();
}

export async function sessionMovements(
  db: Knex,
  organizationId: string,
  sessionId: string,
): Promise<Movement[]> {
  const rows = await db('payment_movements')
    .where({ organization_id: organizationId, session_id: sessionId })
    .orderBy('seq');
  return rows.map((r) => ({
    id: r.id,
    sessionId: r.session_id,
    paymentId: r.payment_id,
    userId: r.user_id,
    kind: r.kind,
    status: r.status,
    amount: canonicalDecimal(r.amount),
    // A bigint column holding a whole count of minor units, the port's unit: a safe integer, never a fraction.
    amountMinor: Number(r.amount_minor),
    currency: r.currency,
    providerReference: r.provider_reference,
    idempotencyKey: r.idempotency_key,
    detail: r.detail,
    createdAt: r.created_at,
  }));
}
