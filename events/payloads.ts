// The `data.object` of each event, built from database rows. Snake case, money as decimal strings, times as
// ISO strings: the same conventions as the REST API.
import type { PaymentRow } from '../db/repositories/payments';
import type { ReceiptRow } from '../db/repositories/receipts';
import type { SessionRow } from '../db/repositories/sessions';
import type { Exemption } from '../db/repositories/exemptions';
import type { Invoice } from '../db/repositories/invoices';
import type { Payout } from '../db/repositories/payouts';
import { formatMoney } from '../pricing/money';
import type { PricedSession } from '../pricing/session-price';

const iso = (d: Date | string | null | undefined) => (d == null ? null : new Date(d).toISOString());

export function sessionObject(s: SessionRow, priced?: PricedSession | null) {
  return {
    id: s.id,
    charge_point_id: s.charge_point_id,
    connector_id: s.connector_id,
    transaction_id: s.transaction_id,
    id_tag: s.id_tag,
    user_id: s.user_id,
    status: s.status,
    currency: s.currency,
    tariff_version_id: s.tariff_version_id,
    payment_mode: s.payment_mode ?? null,
    started_at: iso(s.started_at),
    stopped_at: iso(s.stopped_at),
    energy_wh: s.energy_wh,
    duration_seconds: s.duration_seconds,
    ...(priced === undefined
      ? {}
      : {
          total_excl_vat: priced?.totalExclVat ?? null,
          total_vat: priced?.totalVat ?? null,
          total: priced?.total ?? null,
          lines: (priced?.lines ?? []).map((l) => ({
            component: l.component,
            kind: l.kind,
            description: l.description,
            quantity: l.quantity,
            unit: l.unit,
            unit_price: l.unitPrice,
            amount: l.amount,
            vat_rate: l.vatRate,
            vat_amount: l.vatAmount,
            amount_incl_vat: l.amountInclVat,
          })),
        }),
  };
}

export function receiptObject(r: ReceiptRow) {
  return {
    id: r.id,
    number: r.number,
    session_id: r.session_id,
    currency: r.currency,
    total_excl_vat: formatMoney(r.total_excl_vat, r.currency),
    total_vat: formatMoney(r.total_vat, r.currency),
    total: formatMoney(r.total, r.currency),
    amount_paid: formatMoney(r.amount_paid, r.currency),
    amount_due: formatMoney(r.amount_due, r.currency),
    payment_status: r.payment_status,
    paid_with: r.paid_with ?? null,
    issued_at: iso(r.issued_at),
  };
}

export function paymentObject(p: PaymentRow) {
  return {
    id: p.id,
    session_id: p.session_id,
    provider: p.provider,
    provider_payment_id: p.provider_payment_id,
    status: p.status,
    currency: p.currency,
    amount_authorized: formatMoney(p.amount_authorized, p.currency),
    amount_captured: formatMoney(p.amount_captured, p.currency),
    captured_at: iso(p.captured_at),
    failure_code: p.failure_code,
    failure_message: p.failure_message,
  };
}

export function exemptionObject(e: Exemption) {
  return {
    id: e.id,
    session_id: e.sessionId,
    requested_by: e.requestedBy,
    reason: e.reason,
    amount: e.amount,
    currency: e.currency,
    status: e.status,
    decided_by: e.decidedBy,
    decision_note: e.decisionNote,
    decided_at: iso(e.decidedAt),
    created_at: iso(e.createdAt),
  };
}

export function invoiceObject(i: Invoice) {
  return {
    id: i.id,
    number: i.number,
    period: i.period,
    status: i.status,
    currency: i.currency,
    session_count: i.sessionCount,
    total_excl_vat: i.totalExclVat,
    total_vat: i.totalVat,
    total: i.total,
    amount_prepaid: i.amountPrepaid,
    amount_payable: i.amountPayable,
    vat_breakdown: i.vatBreakdown,
    issued_at: iso(i.issuedAt),
    due_at: iso(i.dueAt),
    paid_at: iso(i.paidAt),
    payment_method: i.paymentMethod,
    payment_reference: i.paymentReference,
    voided_at: iso(i.voidedAt),
    void_reason: i.voidReason,
  };
}

export function payoutObject(p: Payout) {
  return {
    id: p.id,
    party_id: p.partyId,
    statement_id: p.statementId,
    period: p.period,
    amount: p.amount,
    currency: p.currency,
    method: p.method,
    status: p.status,
    provider_transfer_id: p.providerTransferId,
    created_at: iso(p.createdAt),
    paid_at: iso(p.paidAt),
  };
}

export interface RefundRecord {
  id: string;
  payment_id: string;
  provider_refund_id: string;
  amount: string;
  currency: string;
  status: string;
  reason: string | null;
  source: 'exemption' | 'provider';
  exemption_id: string | null;
  created_at: Date;
}

export function refundObject(r: RefundRecord, sessionId: string) {
  return {
    id: r.id,
    payment_id: r.payment_id,
    session_id: sessionId,
    provider_refund_id: r.provider_refund_id,
    amount: formatMoney(r.amount, r.currency),
    currency: r.currency,
    status: r.status,
    reason: r.reason,
    source: r.source,
    exemption_id: r.exemption_id,
    created_at: iso(r.created_at),
  };
}

export interface DisputeRecord {
  id: string;
  payment_id: string;
  provider_dispute_id: string;
  amount: string;
  currency: string;
  status: string;
  reason: string | null;
  opened_at: Date;
  closed_at: Date | null;
}

export function disputeObject(d: DisputeRecord, sessionId: string) {
  return {
    id: d.id,
    payment_id: d.payment_id,
    session_id: sessionId,
    provider_dispute_id: d.provider_dispute_id,
    amount: formatMoney(d.amount, d.currency),
    currency: d.currency,
    status: d.status,
    reason: d.reason,
    opened_at: iso(d.opened_at),
    closed_at: iso(d.closed_at),
  };
}
