import type { Router } from 'express';
import { periodOf } from '../../pricing/calendar-months';
import {
  draftInvoice,
  getInvoice,
  Invoice,
  invoiceCreditLines,
  InvoiceLine,
  invoicePdf,
  invoiceSessionLines,
  InvoiceStatus,
  listInvoices,
  markInvoicePaid,
  voidInvoice,
} from '../../db/repositories/invoices';
import { BILLING, organizationOf } from '../auth';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, resourceMissing } from '../errors';
import { act, read, write } from '../handler';
import { iso, sendPdf } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { optionalBoolean, optionalString, parsePeriod, readBody, requiredString } from '../validation';

const STATUSES: readonly InvoiceStatus[] = ['draft', 'issued', 'paid', 'void'];

const lineJson = (l: InvoiceLine) => ({
  object: 'invoice_line',
  kind: l.kind,
  session_id: l.sessionId,
  credit_note_id: l.creditNoteId,
  description: l.description,
  vat_rate: l.vatRate,
  amount: l.amount,
  vat_amount: l.vatAmount,
  amount_incl_vat: l.amountInclVat,
});

function invoiceJson(inv: Invoice, credits?: InvoiceLine[]) {
  return {
    object: 'invoice',
    id: inv.id,
    invoice_id: inv.id,
    organization_id: inv.organizationId,
    number: inv.number,
    status: inv.status,
    period: inv.period,
    period_start: inv.periodStart,
    period_end: inv.periodEnd,
    currency: inv.currency,
    session_count: inv.sessionCount,
    total_excl_vat: inv.totalExclVat,
    total_vat: inv.totalVat,
    total_amount: inv.total,
    amount_prepaid: inv.amountPrepaid,
    amount_payable: inv.amountPayable,
    vat_breakdown: inv.vatBreakdown,
    issued_at: iso(inv.issuedAt),
    due_at: iso(inv.dueAt),
    paid_at: iso(inv.paidAt),
    payment_method: inv.paymentMethod,
    payment_reference: inv.paymentReference,
    voided_at: iso(inv.voidedAt),
    void_reason: inv.voidReason,
    emailed_at: iso(inv.emailedAt),
    // Session lines are a page at a time: GET /invoices/{id}/lines.
    ...(credits && { credits: credits.map(lineJson) }),
    created_at: iso(inv.createdAt),
  };
}

const notIssued = (inv: Invoice, action: string) =>
  new ApiError(
    409,
    'invalid_request_error',
    'invoice_not_issued',
    `Invoice ${inv.id} is ${inv.status}; only an issued invoice can be ${action}.`,
  );

export function registerInvoiceRoutes(router: Router, deps: ResolvedDeps): void {
  // The open period's draft is created on first sight and answered with its running total.
  router.get(
    '/organizations/:id/invoices',
    read(deps, async ({ db, org, params, query }) => {
      if (params.id !== org.id) throw resourceMissing('organization', params.id);
      const status = queryString(query, 'status');
      if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
        throw invalidParam('status', `must be one of ${STATUSES.join(', ')}`);
      }
      const rawPeriod = queryString(query, 'period');
      const period = rawPeriod === undefined ? undefined : parsePeriod(rawPeriod, 'period');
      const current = await draftInvoice(db, org, periodOf(org.timeZone, new Date()));
      const page = await listInvoices(
        db,
        org.id,
        { status: status as InvoiceStatus | undefined, period },
        parsePage(query),
      );
      const data = page.data.map((inv) => (inv.id === current.id ? current : inv));
      return {
        status: 200,
        body: listEnvelope(
          { ...page, data },
          (inv) => invoiceJson(inv),
          (inv) => inv.id,
        ),
      };
    }),
  );

  router.get(
    '/invoices/:id',
    read(deps, async ({ db, org, params }) => {
      const inv = await getInvoice(db, org.id, params.id);
      if (!inv) throw resourceMissing('invoice', params.id);
      if (inv.status === 'draft')
        return { status: 200, body: invoiceJson(await draftInvoice(db, org, inv.period), []) };
      return { status: 200, body: invoiceJson(inv, await invoiceCreditLines(db, inv.id)) };
    }),
  );

  // Each session's receipt lines summed per VAT rate, a page of sessions at a time (cursor: a session id).
  router.get(
    '/invoices/:id/lines',
    read(deps, async ({ db, org, params, query }) => {
      const inv = await getInvoice(db, org.id, params.id);
      if (!inv) throw resourceMissing('invoice', params.id);
      const page = await invoiceSessionLines(db, inv.id, parsePage(query));
      return { status: 200, body: listEnvelope(page, lineJson, (l) => l.sessionId) };
    }),
  );

  router.get('/invoices/:id/download', async (req, res) => {
    const org = organizationOf(res);
    const id = String(req.params.id);
    const inv = await getInvoice(deps.db, org.id, id);
    if (!inv) throw resourceMissing('invoice', id);
    const pdf = await invoicePdf(deps.db, org.id, id);
    if (!pdf) {
      throw new ApiError(
        409,
        'invalid_request_error',
        'invoice_not_issued',
        `Invoice ${id} is a draft; it has no PDF until its period closes.`,
      );
    }
    sendPdf(res, inv.number ?? inv.id, pdf);
  });

  // Closes a period (after its end and grace time, or at once with `now`): the schedule's job, a backfill of
  // a past month, or an early close. Closing an issued period again returns the same invoice.
  router.post(
    '/organizations/:id/invoices/close',
    act(
      deps,
      async ({ org, params, body: raw }) => {
        if (params.id !== org.id) throw resourceMissing('organization', params.id);
        const body = readBody(raw, ['period', 'now']);
        const now = optionalBoolean(body, 'now') ?? false;
        const period = parsePeriod(requiredString(body, 'period', { max: 7 }), 'period');
        if (period > periodOf(org.timeZone, new Date()))
          throw invalidParam('period', 'must not be in the future');
        if (!deps.invoices) {
          throw new ApiError(
            503,
            'api_error',
            'workflows_unavailable',
            'Closing invoices needs the workflow service.',
          );
        }
        const workflowId = await deps.invoices.close(org, period, { now });
        return {
          status: 202,
          body: { object: 'invoice_close', organization_id: org.id, period, now, workflow_id: workflowId },
        };
      },
      BILLING,
    ),
  );

  // Re-runs the organization's monthly schedule as of the 1st of each month from..to: allowances open and the
  // month before each closes, exactly as the schedule would have done; what ran already changes nothing.
  router.post(
    '/organizations/:id/schedules/monthly-billing/backfill',
    act(
      deps,
      async ({ org, params, body: raw }) => {
        if (params.id !== org.id) throw resourceMissing('organization', params.id);
        const body = readBody(raw, ['from', 'to']);
        const from = parsePeriod(requiredString(body, 'from', { max: 7 }), 'from');
        const to = parsePeriod(requiredString(body, 'to', { max: 7 }), 'to');
        if (to < from) throw invalidParam('to', 'must not be before from');
        if (to > periodOf(org.timeZone, new Date())) throw invalidParam('to', 'must not be in the future');
        if (!deps.schedules) {
          throw new ApiError(
            503,
            'api_error',
            'workflows_unavailable',
            'Backfills need the workflow service.',
          );
        }
        const runs = await deps.schedules.backfill(org, from, to);
        return {
          status: 202,
          body: { object: 'schedule_backfill', organization_id: org.id, from, to, runs },
        };
      },
      BILLING,
    ),
  );

  router.post(
    '/invoices/:id/mark-paid',
    write(
      deps,
      async ({ db, org, principal, params, body: raw }) => {
        const body = readBody(raw, ['reference']);
        const reference = optionalString(body, 'reference', { max: 200, trim: true }) ?? null;
        const inv = await getInvoice(db, org.id, params.id);
        if (!inv) throw resourceMissing('invoice', params.id);
        const paid = await markInvoicePaid(db, inv.id, {
          method: 'bank_transfer',
          reference,
          at: new Date(),
          actor: { type: 'member', id: principal.memberId },
        });
        if (!paid) throw notIssued(inv, 'marked paid');
        return { status: 200, body: invoiceJson(paid) };
      },
      BILLING,
    ),
  );

  // Voiding releases what the invoice billed: its sessions and credits go on the next invoice that closes.
  router.post(
    '/invoices/:id/void',
    write(
      deps,
      async ({ db, org, principal, params, body: raw }) => {
        const body = readBody(raw, ['reason']);
        const reason = requiredString(body, 'reason', { max: 1000, trim: true });
        const inv = await getInvoice(db, org.id, params.id);
        if (!inv) throw resourceMissing('invoice', params.id);
        const voided = await voidInvoice(db, inv.id, reason, new Date(), {
          type: 'member',
          id: principal.memberId,
        });
        if (!voided) throw notIssued(inv, 'voided');
        return { status: 200, body: invoiceJson(voided) };
      },
      BILLING,
    ),
  );
}
