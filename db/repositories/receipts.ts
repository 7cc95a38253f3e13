import type { Knex } from 'knex';
import type { PricedSession } from '../../pricing/session-price';
import { receiptObject, sessionObject } from '../../events/payloads';
import { newId } from '../ids';
import { recordEvent } from './events';
import type { SessionRow } from './sessions';

export interface ReceiptRow {
  id: string;
  number: string;
  organization_id: string;
  session_id: string;
  currency: string;
  total: string;
  total_excl_vat: string;
  total_vat: string;
  pricing: unknown;
  amount_paid: string;
  amount_due: string;
  payment_status: string;
  paid_with?: unknown;
  issued_at: Date;
}

export interface ReceiptLineRow {
  receipt_id: string;
  position: number;
  component: string;
  description: string;
  quantity: string;
  unit: string;
  unit_price: string;
  amount: string;
  kind: string;
  vat_rate: string | null;
  vat_amount: string;
  amount_incl_vat: string;
  source: unknown;
}

export interface CompleteSession {
  sessionId: string;
  meterStopWh: string;
  energyWh: string;
  durationSeconds: number;
  stoppedAt: Date;
  stopReason: string | null;
  /** null when the session could not be priced (no tariff): it is closed as unbilled, without a receipt. */
  priced: PricedSession | null;
  amountPaid: string;
  amountDue: string;
  paymentStatus: string;
  /** How the session was paid (docs/payments.md); null for sessions without a price. */
  paidWith?: object | null;
}

/**
 * Closes the session and issues its receipt in one transaction, with the outbox rows announcing both.
 * Keyed by session id: a retried activity finds the receipt already there and returns it.
 */
export async function completeSessionWithReceipt(db: Knex, c: CompleteSession): Promise<ReceiptRow | null> {
  return db.transaction(async (trx) => {
    const session = await trx('charging_sessions').where({ id: c.sessionId }).forUpdate().first();
    if (!session) throw new Error(`session ${c.sessionId} not found`);
    const existing = await trx<ReceiptRow>('receipts').where({ session_id: c.sessionId }).first();
    if (existing) return existing;

    await trx('charging_sessions')
      .where({ id: c.sessionId })
      .update({
        status: c.priced ? 'completed' : 'unbilled',
        meter_stop_wh: c.meterStopWh,
        energy_wh: c.energyWh,
        duration_seconds: c.durationSeconds,
        stopped_at: c.stoppedAt,
        stop_reason: c.stopReason,
        total_amount: c.priced?.total ?? null,
        updated_at: trx.fn.now(),
      });
    const completed: SessionRow = await trx('charging_sessions').where({ id: c.sessionId }).first();
    await recordEvent(trx, {
      organizationId: session.organization_id,
      type: 'session.completed',
      objectType: 'session',
      objectId: c.sessionId,
      object: sessionObject(completed, c.priced),
    });
    if (!c.priced) return null;

    const { seq } = (await trx.raw("SELECT nextval('receipt_number_seq') AS seq")).rows[0];
    const [receipt] = await trx<ReceiptRow>('receipts')
      .insert({
        id: newId('rcpt'),
        number: `R-${String(seq).padStart(8, '0')}`,
        organization_id: session.organization_id,
        session_id: c.sessionId,
        currency: c.priced.currency,
        total: c.priced.total,
        total_excl_vat: c.priced.totalExclVat,
        total_vat: c.priced.totalVat,
        pricing: JSON.stringify({
          applied_rules: c.priced.appliedRules,
          promotion: c.priced.promotion,
          rejected_readings: c.priced.rejectedReadings,
          ocpi: c.priced.ocpi,
          energy_kwh: c.priced.energyKwh,
          charging_seconds: c.priced.chargingSeconds,
          idle_seconds: c.priced.idleSeconds,
        }),
        amount_paid: c.amountPaid,
        amount_due: c.amountDue,
        payment_status: c.paymentStatus,
        paid_with: c.paidWith ? JSON.stringify(c.paidWith) : null,
      })
      .returning('*');
    // A session that used nothing has no lines (knex refuses an empty insert).
    if (c.priced.lines.length > 0) {
      await trx('receipt_lines').insert(
        c.priced.lines.map((line, position) => ({
          receipt_id: receipt.id,
          position,
          component: line.component,
          description: line.description,
          quantity: line.quantity,
          unit: line.unit,
          unit_price: line.unitPrice,
          amount: line.amount,
          kind: line.kind,
          vat_rate: line.vatRate,
          vat_amount: line.vatAmount,
          amount_incl_vat: line.amountInclVat,
          source: JSON.stringify(line.source),
        })),
      );
    }
    await recordEvent(trx, {
      organizationId: session.organization_id,
      type: 'receipt.issued',
      objectType: 'receipt',
      objectId: receipt.id,
      object: receiptObject(receipt),
    });
    return receipt;
  });
}

export async function findReceiptBySession(
  db: Knex,
  sessionId: string,
): Promise<{ receipt: ReceiptRow; lines: ReceiptLineRow[] } | undefined> {
  const receipt = await db<ReceiptRow>('receipts').where({ session_id: sessionId }).first();
  if (!receipt) return undefined;
  const lines = await db<ReceiptLineRow>('receipt_lines')
    .where({ receipt_id: receipt.id })
    .orderBy('position');
  return { receipt, lines };
}
