import type { Knex } from 'knex';
import { SYSTEM } from '../db/repositories/auditLog';
import { ApplicationFailure } from '@temporalio/common';
import { Party } from '../documents/billing-document';
import { renderPdf } from '../documents/pdf';
import {
  findInvoice,
  Invoice,
  invoicePdf,
  issueInvoice,
  markInvoiceEmailed,
  markInvoicePaid,
} from '../db/repositories/invoices';
import { getOrganization, Organization } from '../db/repositories/organizations';
import { Mailer, sendOnce } from '../notifications/mailer';
import { Dec, formatMoney, toMinorUnits } from '../pricing/money';
import { PaymentProvider, PaymentRejectedError } from '../payments/port';
import { buyerOf } from './parties';

export interface InvoiceDeps {
  db: Knex;
  payments: PaymentProvider;
  mailer: Mailer;
  seller: Party;
  /** Days between issue and due date. */
  paymentTermDays?: number;
}

export interface IssuedInvoice {
  invoiceId: string;
  number: string | null;
  status: Invoice['status'];
  /** The organization has a saved payment method and something is payable. */
  chargeable: boolean;
}

async function organization(db: Knex, id: string): Promise<Organization> {
  const org = await getOrganization(db, id);
  if (!org) throw ApplicationFailure.nonRetryable(`organization ${id} does not exist`, 'OrganizationMissing');
  return org;
}

async function invoice(db: Knex, id: string): Promise<Invoice> {
  const found = await findInvoice(db, id);
  if (!found) throw ApplicationFailure.nonRetryable(`invoice ${id} does not exist`, 'InvoiceMissing');
  return found;
}

export function createInvoiceActivities({ db, payments, mailer, seller, paymentTermDays = 14 }: InvoiceDeps) {
  return {
    async issueInvoiceForPeriod(input: { organizationId: string; period: string }): Promise<IssuedInvoice> {
      const org = await organization(db, input.organizationId);
      const issued = await issueInvoice(db, {
        organizationId: org.id,
        timeZone: org.timeZone,
        currency: org.currency,
        period: input.period,
        issuedAt: new Date(),
        paymentTermDays,
        render: (inv, lines) => {
          const money = (a: string) => formatMoney(a, inv.currency);
          return renderPdf({
            kind: 'invoice',
            number: inv.number!,
            issuedAt: inv.issuedAt!,
            timeZone: org.timeZone,
            currency: inv.currency,
            seller,
            buyer: buyerOf(org),
            references: [
              { label: 'Period', value: `${inv.periodStart} to ${inv.periodEnd}` },
              { label: 'Due', value: inv.dueAt!.toISOString().slice(0, 10) },
            ],
            lines: lines.map((l) => ({
              description: l.description,
              quantity: l.quantity,
              amountExclVat: l.amount,
              vatRate: l.vatRate ?? '0',
              vatAmount: l.vatAmount,
            })),
            notes: [
              `${inv.sessionCount} charging session${inv.sessionCount === 1 ? '' : 's'}; per-session lines: GET /api/v1/billing/invoices/${inv.id}.`,
              ...(inv.amountPrepaid !== '0'
                ? [`Already paid by card at the charger: ${money(inv.amountPrepaid)} ${inv.currency}.`]
                : []),
              `Amount payable: ${money(inv.amountPayable)} ${inv.currency}, due ${inv.dueAt!.toISOString().slice(0, 10)}.`,
            ],
          });
        },
      });
      return {
        invoiceId: issued.id,
        number: issued.number,
        status: issued.status,
        chargeable:
          issued.status === 'issued' && new Dec(issued.amountPayable).gt(0) && !!org.paymentMethodId,
      };
    },

    async emailInvoice(invoiceId: string): Promise<boolean> {
      const inv = await invoice(db, invoiceId);
      const org = await organization(db, inv.organizationId);
      const to = org.billingContact.email;
      if (!to || inv.status === 'draft' || inv.status === 'void') return false;
      const pdf = (await invoicePdf(db, org.id, invoiceId))!;
      const sent = await sendOnce(db, mailer, {
        key: `invoice:${invoiceId}:issued`,
        organizationId: org.id,
        to,
        subject: `Invoice ${inv.number} for ${inv.period}: ${formatMoney(inv.amountPayable, inv.currency)} ${inv.currency}`,
        text:
          `Invoice ${inv.number} for charging in ${inv.periodStart} to ${inv.periodEnd} is attached.\n` +
          `Amount payable: ${formatMoney(inv.amountPayable, inv.currency)} ${inv.currency}, ` +
          `due ${inv.dueAt?.toISOString().slice(0, 10)}.`,
        attachments: [{ filename: `${inv.number}.pdf`, content: pdf, contentType: 'application/pdf' }],
      });
      await markInvoiceEmailed(db, invoiceId, new Date());
      return sent;
    },

    /** Charges the saved payment method; keys derive from the invoice, so a retry never charges twice. */
    async chargeInvoice(invoiceId: string): Promise<'paid' | 'declined' | 'skipped'> {
      const inv = await invoice(db, invoiceId);
      const org = await organization(db, inv.organizationId);
      if (inv.status !== 'issued' || !org.paymentMethodId) return 'skipped';
      const amountMinor = toMinorUnits(inv.amountPayable, inv.currency);
      if (amountMinor <= 0) return 'skipped';
      try {
        const auth = await payments.authorize({
          amountMinor,
          currency: inv.currency,
          paymentMethodId: org.paymentMethodId,
          customerId: org.paymentCustomerId ?? undefined,
          idempotencyKey: `invoice:${invoiceId}:authorize`,
          // The organization's saved method is charged as a merchant-initiated payment, with nobody present.
          saveForOffSession: false,
          incrementalAuthorization: false,
          description: `Invoice ${inv.number}`,
          metadata: { invoice_id: invoiceId, organization_id: org.id },
        });
        if (auth.outcome === 'declined') return 'declined';
        await payments.capture({
          paymentId: auth.paymentId,
          amountMinor,
          idempotencyKey: `invoice:${invoiceId}:capture`,
        });
        await markInvoicePaid(db, invoiceId, {
          method: 'card',
          reference: auth.paymentId,
          at: new Date(),
          actor: SYSTEM,
        });
        return 'paid';
      } catch (err) {
        if (err instanceof PaymentRejectedError) {
          throw ApplicationFailure.nonRetryable(`invoice payment refused: ${err.message}`, 'PaymentRefused');
        }
        throw err;
      }
    },
  };
}

export type InvoiceActivities = ReturnType<typeof createInvoiceActivities>;
