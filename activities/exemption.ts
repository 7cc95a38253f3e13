import type { Knex } from 'knex';
import { ApplicationFailure } from '@temporalio/common';
import { BillingDocument, Party } from '../documents/billing-document';
import { renderPdf } from '../documents/pdf';
import {
  creditNotePdf,
  findCreditNoteByExemption,
  issueCreditNote,
  CreditNote,
} from '../db/repositories/creditNotes';
import {
  Exemption,
  findExemption,
  recordDecision,
  recordReminder,
  recordReversal,
  Reversal,
} from '../db/repositories/exemptions';
import { getOrganization } from '../db/repositories/organizations';
import type { NewRefund } from '../db/repositories/refunds';
import { SYSTEM } from '../db/repositories/auditLog';
import { findPaymentBySession } from '../db/repositories/payments';
import { findReceiptBySession } from '../db/repositories/receipts';
import { Mailer, sendOnce } from '../notifications/mailer';
import { amountOff } from '../pricing/adjustments';
import { Dec, fromMinorUnits, toMinorUnits } from '../pricing/money';
import { PaymentProvider, PaymentRejectedError } from '../payments/port';
import { buyerOf } from './parties';

export interface ExemptionDeps {
  db: Knex;
  payments: PaymentProvider;
  mailer: Mailer;
  /** The operator issuing documents: printed as the seller. */
  seller: Party;
}

export interface DecisionRecord {
  exemptionId: string;
  status: 'approved' | 'rejected' | 'expired';
  decidedBy: string | null;
  note: string | null;
  at: string;
}

export interface ReversalOutcome {
  reversal: Reversal;
  amount: string;
  refundId?: string;
}

async function load(db: Knex, id: string): Promise<Exemption> {
  const exemption = await findExemption(db, id);
  if (!exemption) throw ApplicationFailure.nonRetryable(`exemption ${id} does not exist`, 'ExemptionMissing');
  return exemption;
}

async function billed(db: Knex, sessionId: string) {
  const found = await findReceiptBySession(db, sessionId);
  if (!found)
    throw ApplicationFailure.nonRetryable(`session ${sessionId} has no receipt`, 'SessionNotBilled');
  return found;
}

/** What the exemption gives back, per VAT rate: the whole receipt, or a net amount split over its rates. */
async function creditLines(db: Knex, exemption: Exemption) {
  const { receipt, lines } = await billed(db, exemption.sessionId);
  const vatLines = lines.map((l) => ({ vatRate: l.vat_rate, amount: l.amount, vatAmount: l.vat_amount }));
  const net = exemption.amount ?? receipt.total_excl_vat;
  // amountOff answers reductions (negative amounts); a credit note states what it gives back.
  const parts = amountOff(vatLines, net, receipt.currency).map((p) => ({
    vatRate: p.vatRate,
    amount: new Dec(p.amount).neg().toString(),
    vatAmount: new Dec(p.vatAmount).neg().toString(),
    amountInclVat: new Dec(p.amountInclVat).neg().toString(),
  }));
  const total = parts.reduce((sum, p) => sum.add(p.amountInclVat), new Dec(0));
  return { receipt, parts, total };
}

export function createExemptionActivities({ db, payments, mailer, seller }: ExemptionDeps) {
  async function approvers(organizationId: string): Promise<string[]> {
    return db('members')
      .where({ organization_id: organizationId })
      .whereIn('role', ['owner', 'billing'])
      .whereNull('removed_at')
      .orderBy('id')
      .pluck('email');
  }

  async function driverEmail(sessionId: string): Promise<string | undefined> {
    const row = await db('charging_sessions')
      .join('users', 'users.id', 'charging_sessions.user_id')
      .where('charging_sessions.id', sessionId)
      .first('users.email');
    return row?.email;
  }

  return {
    async recordExemptionDecision(d: DecisionRecord): Promise<Exemption> {
      return recordDecision(db, d.exemptionId, { ...d, at: new Date(d.at) });
    },

    async remindApprovers(exemptionId: string): Promise<void> {
      const exemption = await load(db, exemptionId);
      const to = await approvers(exemption.organizationId);
      if (to.length > 0) {
        await sendOnce(db, mailer, {
          key: `exemption:${exemptionId}:reminder`,
          organizationId: exemption.organizationId,
          to,
          subject: `Exemption ${exemptionId} is waiting for your decision`,
          text:
            `An exemption for session ${exemption.sessionId} was requested on ${exemption.createdAt.toISOString()} ` +
            `and is still undecided.\nReason: ${exemption.reason}\n\n` +
            `Approve or reject it: POST /api/v1/billing/exemptions/${exemptionId}/approve or /reject.`,
        });
      }
      await recordReminder(db, exemptionId, new Date());
    },

    /**
     * Gives the money back the way it was taken: a hold not captured yet is canceled, a captured payment is
     * refunded (never more than was captured), an amount due is credited on the organization's invoice. Keys derive from the
     * exemption, so a retry after a timeout reaches the provider as the same request.
     */
    async reverseExemptedCharge(exemptionId: string): Promise<ReversalOutcome> {
      const exemption = await load(db, exemptionId);
      if (exemption.reversal) {
        return {
          reversal: exemption.reversal,
          amount: exemption.amountReversed ?? '0',
          refundId: exemption.refundId ?? undefined,
        };
      }
      const { receipt, total } = await creditLines(db, exemption);
      const payment = await findPaymentBySession(db, exemption.sessionId);
      const at = new Date();
      let outcome: ReversalOutcome;
      let refund: NewRefund | undefined;
      if (payment?.status === 'authorized' && payment.provider_payment_id) {
        await payments.cancel({
          paymentId: payment.provider_payment_id,
          idempotencyKey: `exemption:${exemptionId}:cancel`,
        });
        outcome = { reversal: 'hold_canceled', amount: total.toString() };
      } else if (
        payment?.status === 'captured' &&
        payment.provider_payment_id &&
        new Dec(payment.amount_captured).gt(0)
      ) {
        const refundable = Dec.min(total, new Dec(payment.amount_captured));
        try {
          const refunded = await payments.refund({
            paymentId: payment.provider_payment_id,
            amountMinor: toMinorUnits(refundable, receipt.currency),
            idempotencyKey: `exemption:${exemptionId}:refund`,
            reason: 'requested_by_customer',
            metadata: { exemption_id: exemptionId, session_id: exemption.sessionId },
          });
          outcome = {
            reversal: 'refunded',
            amount: fromMinorUnits(refunded.amountRefundedMinor, receipt.currency).toString(),
            refundId: refunded.refundId,
          };
          refund = {
            organizationId: exemption.organizationId,
            paymentId: payment.id,
            sessionId: exemption.sessionId,
            providerRefundId: refunded.refundId,
            amount: outcome.amount,
            currency: receipt.currency,
            status: refunded.status,
            reason: 'requested_by_customer',
            source: 'exemption',
            exemptionId,
            actor: exemption.decidedBy ? { type: 'member', id: exemption.decidedBy } : SYSTEM,
          };
        } catch (err) {
          if (err instanceof PaymentRejectedError) {
            throw ApplicationFailure.nonRetryable(`refund refused: ${err.message}`, 'RefundRefused');
          }
          throw err;
        }
      } else {
        // Nothing was paid at the charger: the amount is due on the organization's invoice (issued or to
        // come), and the credit note is applied on the next one that closes.
        outcome = { reversal: 'invoice_credit', amount: total.toString() };
      }
      await recordReversal(db, exemptionId, { ...outcome, at, refund });
      return outcome;
    },

    async issueExemptionCreditNote(exemptionId: string): Promise<{ creditNoteId: string; number: string }> {
      const exemption = await load(db, exemptionId);
      const already = await findCreditNoteByExemption(db, exemptionId);
      if (already) return { creditNoteId: already.id, number: already.number };
      const org = (await getOrganization(db, exemption.organizationId))!;
      const { receipt, parts } = await creditLines(db, exemption);
      const lines = parts.map((p) => ({
        description: `Exemption of session ${exemption.sessionId} (receipt ${receipt.number})`,
        vatRate: p.vatRate,
        amount: p.amount,
        vatAmount: p.vatAmount,
        amountInclVat: p.amountInclVat,
      }));
      const sum = (pick: (l: (typeof lines)[number]) => string) =>
        lines.reduce((s, l) => s.add(pick(l)), new Dec(0)).toString();
      const issuedAt = exemption.decidedAt ?? new Date();
      const note: CreditNote = await issueCreditNote(db, {
        organizationId: exemption.organizationId,
        exemptionId,
        sessionId: exemption.sessionId,
        receiptId: receipt.id,
        currency: receipt.currency,
        totalExclVat: sum((l) => l.amount),
        totalVat: sum((l) => l.vatAmount),
        total: sum((l) => l.amountInclVat),
        lines,
        issuedAt,
        render: (number) => {
          const doc: BillingDocument = {
            kind: 'credit_note',
            number,
            issuedAt,
            timeZone: org.timeZone,
            currency: receipt.currency,
            seller,
            buyer: buyerOf(org),
            references: [
              { label: 'Receipt', value: receipt.number },
              { label: 'Session', value: exemption.sessionId },
            ],
            lines: lines.map((l) => ({
              description: l.description,
              amountExclVat: l.amount,
              vatRate: l.vatRate ?? '0',
              vatAmount: l.vatAmount,
            })),
            notes: [
              `Reason: ${exemption.reason}`,
              ...(exemption.decisionNote ? [`Note: ${exemption.decisionNote}`] : []),
            ],
          };
          return renderPdf(doc);
        },
      });
      return { creditNoteId: note.id, number: note.number };
    },

    async notifyDriverOfExemption(exemptionId: string): Promise<boolean> {
      const exemption = await load(db, exemptionId);
      const to = await driverEmail(exemption.sessionId);
      if (!to || exemption.status === 'pending') return false;
      const note = await findCreditNoteByExemption(db, exemptionId);
      const pdf = note && (await creditNotePdf(db, exemption.organizationId, note.id));
      const approved = exemption.status === 'approved';
      return sendOnce(db, mailer, {
        key: `exemption:${exemptionId}:driver:${exemption.status}`,
        organizationId: exemption.organizationId,
        to,
        subject: approved
          ? `Your charging session ${exemption.sessionId} has been credited`
          : `Your request about charging session ${exemption.sessionId}`,
        text: approved
          ? `The charge for session ${exemption.sessionId} has been waived: ${note?.total} ${note?.currency} ` +
            `(credit note ${note?.number}, attached).`
          : `The charge for session ${exemption.sessionId} stands. ${exemption.decisionNote ?? ''}`.trim(),
        attachments:
          approved && note && pdf
            ? [{ filename: `${note.number}.pdf`, content: pdf, contentType: 'application/pdf' }]
            : undefined,
      });
    },
  };
}

export type ExemptionActivities = ReturnType<typeof createExemptionActivities>;
