import type { Knex } from 'knex';
import { Dec } from '../../pricing/money';
import { newId } from '../ids';
import { periodBounds } from './allowances';
import { nextDocumentNumber } from './creditNotes';
import { canonicalDecimal } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

// An organization's monthly invoice. What it bills: every receipt of the organization's sessions with an
// amount due (nothing, or not all, was paid by card at the charger) that ended before the period's end and
// is on no invoice yet, so a session that arrives late from an offline charge point goes on the next invoice
// to close. Credit notes of exemptions on such amounts are applied the same way. Lines are the receipts'
// own lines summed per session and VAT rate, so an invoice's session lines add up to those receipts exactly.

export type InvoiceStatus = 'draft' | 'issued' | 'paid' | 'void';

export interface VatBreakdownRow {
  vat_rate: string | null;
  amount: string;
  vat_amount: string;
  amount_incl_vat: string;
}

export interface Invoice {
  id: string;
  organizationId: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  status: InvoiceStatus;
  number: string | null;
  currency: string;
  sessionCount: number;
  totalExclVat: string;
  totalVat: string;
  total: string;
  amountPrepaid: string;
  amountPayable: string;
  vatBreakdown: VatBreakdownRow[];
  issuedAt: Date | null;
  dueAt: Date | null;
  paidAt: Date | null;
  paymentMethod: 'card' | 'bank_transfer' | null;
  paymentReference: string | null;
  voidedAt: Date | null;
  voidReason: string | null;
  emailedAt: Date | null;
  createdAt: Date;
}

export interface InvoiceLine {
  position: number;
  kind: 'session' | 'credit_note';
  sessionId: string | null;
  creditNoteId: string | null;
  description: string;
  vatRate: string | null;
  amount: string;
  vatAmount: string;
  amountInclVat: string;
}

interface InvoiceRow {
  id: string;
  organization_id: string;
  period: string;
  period_start: string;
  period_end: string;
  status: InvoiceStatus;
  number: string | null;
  currency: string;
  session_count: number;
  total_excl_vat: string;
  total_vat: string;
  total: string;
  amount_prepaid: string;
  amount_payable: string;
  vat_breakdown: VatBreakdownRow[];
  issued_at: Date | null;
  due_at: Date | null;
  paid_at: Date | null;
  payment_method: 'card' | 'bank_transfer' | null;
  payment_reference: string | null;
  voided_at: Date | null;
  void_reason: string | null;
  emailed_at: Date | null;
  created_at: Date;
}

const COLUMNS = [
  'id',
  'organization_id',
  'period',
  'period_start',
  'period_end',
  'status',
  'number',
  'currency',
  'session_count',
  'total_excl_vat',
  'total_vat',
  'total',
  'amount_prepaid',
  'amount_payable',
  'vat_breakdown',
  'issued_at',
  'due_at',
  'paid_at',
  'payment_method',
  'payment_reference',
  'voided_at',
  'void_reason',
  'emailed_at',
  'created_at',
];

const toInvoice = (r: InvoiceRow): Invoice => ({
  id: r.id,
  organizationId: r.organization_id,
  period: r.period,
  periodStart: r.period_start,
  periodEnd: r.period_end,
  status: r.status,
  number: r.number,
  currency: r.currency,
  sessionCount: r.session_count,
  totalExclVat: canonicalDecimal(r.total_excl_vat),
  totalVat: canonicalDecimal(r.total_vat),
  total: canonicalDecimal(r.total),
  amountPrepaid: canonicalDecimal(r.amount_prepaid),
  amountPayable: canonicalDecimal(r.amount_payable),
  vatBreakdown: r.vat_breakdown,
  issuedAt: r.issued_at,
  dueAt: r.due_at,
  paidAt: r.paid_at,
  paymentMethod: r.payment_method,
  paymentReference: r.payment_reference,
  voidedAt: r.voided_at,
  voidReason: r.void_reason,
  emailedAt: r.emailed_at,
  createdAt: r.created_at,
});

// Dates as 'YYYY-MM-DD' text: pg would turn them into Dates at the process's local midnight.
const select = (db: Knex) =>
  db('invoices').select(
    COLUMNS.map((c) =>
      c === 'period_start' || c === 'period_end' ? db.raw(`to_char(${c}, 'YYYY-MM-DD') as ${c}`) : c,
    ),
  );

/** The last calendar day of a period, 'YYYY-MM-DD'. */
function lastDay(period: string): string {
  const [y, m] = period.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

export async function getInvoice(db: Knex, organizationId: string, id: string): Promise<Invoice | undefined> {
  const row = await select(db).where({ organization_id: organizationId, id }).first();
  return row && toInvoice(row);
}

export async function findInvoice(db: Knex, id: string): Promise<Invoice | undefined> {
  const row = await select(db).where({ id }).first();
  return row && toInvoice(row);
}

export async function findLiveInvoice(
  db: Knex,
  organizationId: string,
  period: string,
): Promise<Invoice | undefined> {
  const row = await select(db)
    .where({ organization_id: organizationId, period })
    .whereNot({ status: 'void' })
    .first();
  return row && toInvoice(row);
}

export async function listInvoices(
  db: Knex,
  organizationId: string,
  filter: { status?: InvoiceStatus; period?: string },
  page: PageRequest,
): Promise<Page<Invoice>> {
  const query = select(db).where({ organization_id: organizationId });
  if (filter.status) query.where({ status: filter.status });
  if (filter.period) query.where({ period: filter.period });
  return fetchPage(query, page, 'id', toInvoice);
}

export async function invoiceLines(db: Knex, invoiceId: string): Promise<InvoiceLine[]> {
  const rows = await db('invoice_lines').where({ invoice_id: invoiceId }).orderBy('position');
  return rows.map((r) => ({
    position: r.position,
    kind: r.kind,
    sessionId: r.session_id,
    creditNoteId: r.credit_note_id,
    description: r.description,
    vatRate: r.vat_rate === null ? null : canonicalDecimal(r.vat_rate),
    amount: canonicalDecimal(r.amount),
    vatAmount: canonicalDecimal(r.vat_amount),
    amountInclVat: canonicalDecimal(r.amount_incl_vat),
  }));
}

export async function invoicePdf(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<Buffer | null | undefined> {
  const row = await db('invoices').where({ organization_id: organizationId, id }).first('pdf');
  return row ? (row.pdf as Buffer | null) : undefined;
}

/** The open period's invoice: created on first sight, with a running total of what it would bill now. */
export async function draftInvoice(
  db: Knex,
  org: { id: string; timeZone: string; currency: string },
  period: string,
): Promise<Invoice> {
  await db('invoices')
    .insert({
      id: newId('inv'),
      organization_id: org.id,
      period,
      period_start: `${period}-01`,
      period_end: lastDay(period),
      status: 'draft',
      currency: org.currency,
    })
    .onConflict(db.raw("(organization_id, period) WHERE status <> 'void'"))
    .ignore();
  const invoice = (await findLiveInvoice(db, org.id, period))!;
  if (invoice.status !== 'draft') return invoice;
  const { end } = periodBounds(org.timeZone, period);
  const running = await db
    .from(billable(db, org.id, end).as('b'))
    .first(
      db.raw('count(DISTINCT session_id)::int AS sessions'),
      db.raw('coalesce(sum(amount), 0) AS net'),
      db.raw('coalesce(sum(vat_amount), 0) AS vat'),
      db.raw('coalesce(sum(amount_incl_vat), 0) AS gross'),
    );
  return {
    ...invoice,
    sessionCount: running.sessions,
    totalExclVat: canonicalDecimal(running.net),
    totalVat: canonicalDecimal(running.vat),
    total: canonicalDecimal(running.gross),
    amountPayable: canonicalDecimal(running.gross),
  };
}

/** Receipt lines summed per session and VAT rate, of the sessions the next invoice closing before `end` bills. */
function billable(db: Knex, organizationId: string, end: Date): Knex.QueryBuilder {
  return db('charging_sessions as s')
    .join('receipts as r', 'r.session_id', 's.id')
    .join('receipt_lines as rl', 'rl.receipt_id', 'r.id')
    .where('s.organization_id', organizationId)
    .whereNull('s.invoice_id')
    .where('r.amount_due', '>', 0)
    .where('s.stopped_at', '<', end)
    .groupBy('s.id', 's.stopped_at', 's.energy_wh', 'rl.vat_rate')
    .select(
      's.id as session_id',
      's.stopped_at',
      's.energy_wh',
      'rl.vat_rate',
      db.raw('sum(rl.amount) AS amount'),
      db.raw('sum(rl.vat_amount) AS vat_amount'),
      db.raw('sum(rl.amount_incl_vat) AS amount_incl_vat'),
    );
}

export interface IssueInvoice {
  organizationId: string;
  timeZone: string;
  currency: string;
  period: string;
  issuedAt: Date;
  paymentTermDays: number;
  render(invoice: Invoice, lines: InvoiceSummaryLine[]): Promise<Buffer>;
}

/** What the PDF prints: sessions summed per site and VAT rate, and each credit note. */
export interface InvoiceSummaryLine {
  description: string;
  quantity: string;
  vatRate: string | null;
  amount: string;
  vatAmount: string;
}

/**
 * Issues the period's invoice once. The organization's closings run one at a time (an advisory lock), so two
 * periods closing together cannot both bill a session; closing an issued period again returns it unchanged.
 */
export async function issueInvoice(db: Knex, req: IssueInvoice): Promise<Invoice> {
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`invoice:${req.organizationId}`]);
    const existing = await findLiveInvoice(trx, req.organizationId, req.period);
    if (existing && existing.status !== 'draft') return existing;
    const id = existing?.id ?? newId('inv');
    if (!existing) {
      await trx('invoices').insert({
        id,
        organization_id: req.organizationId,
        period: req.period,
        period_start: `${req.period}-01`,
        period_end: lastDay(req.period),
        status: 'draft',
        currency: req.currency,
      });
    }
    const { end } = periodBounds(req.timeZone, req.period);

    // Session lines, in the order the sessions ended.
    const inner = billable(trx, req.organizationId, end).toSQL();
    await trx.raw(
      `INSERT INTO invoice_lines (invoice_id, position, kind, session_id, description, vat_rate, amount, vat_amount, amount_incl_vat)
       SELECT ?, row_number() OVER (ORDER BY b.stopped_at, b.session_id, b.vat_rate NULLS FIRST), 'session', b.session_id,
              'Charging session ' || b.session_id || ', ' || to_char(b.energy_wh / 1000, 'FM999999990.000') || ' kWh',
              b.vat_rate, b.amount, b.vat_amount, b.amount_incl_vat
       FROM (${inner.sql}) b`,
      [id, ...inner.bindings],
    );
    const sessions = await trx('charging_sessions')
      .whereIn('id', trx('invoice_lines').where({ invoice_id: id, kind: 'session' }).distinct('session_id'))
      .update({ invoice_id: id });

    // Credit notes waiving amounts due, not applied yet, whose session this or an earlier invoice billed: a
    // waiver issued after its session's invoice goes on the next one.
    await trx.raw(
      `INSERT INTO invoice_lines (invoice_id, position, kind, credit_note_id, description, vat_rate, amount, vat_amount, amount_incl_vat)
       SELECT ?, (SELECT coalesce(max(position), 0) FROM invoice_lines WHERE invoice_id = ?)
                 + row_number() OVER (ORDER BY cn.number, l.ord),
              'credit_note', cn.id, 'Credit note ' || cn.number || ': ' || (l.line ->> 'description'),
              (l.line ->> 'vatRate')::numeric, -(l.line ->> 'amount')::numeric,
              -(l.line ->> 'vatAmount')::numeric, -(l.line ->> 'amountInclVat')::numeric
       FROM credit_notes cn
       JOIN exemptions e ON e.id = cn.exemption_id AND e.reversal = 'invoice_credit'
       CROSS JOIN LATERAL jsonb_array_elements(cn.lines) WITH ORDINALITY AS l(line, ord)
       JOIN charging_sessions s ON s.id = cn.session_id AND s.invoice_id IS NOT NULL
       WHERE cn.organization_id = ? AND cn.applied_invoice_id IS NULL`,
      [id, id, req.organizationId],
    );
    await trx('credit_notes')
      .whereIn(
        'id',
        trx('invoice_lines').where({ invoice_id: id, kind: 'credit_note' }).distinct('credit_note_id'),
      )
      .update({ applied_invoice_id: id });

    const breakdown: VatBreakdownRow[] = (
      await trx('invoice_lines')
        .where({ invoice_id: id })
        .groupBy('vat_rate')
        .orderByRaw('vat_rate NULLS FIRST')
        .select(
          'vat_rate',
          trx.raw('sum(amount) AS amount'),
          trx.raw('sum(vat_amount) AS vat_amount'),
          trx.raw('sum(amount_incl_vat) AS amount_incl_vat'),
        )
    ).map((r: Record<string, string | null>) => ({
      vat_rate: r.vat_rate === null ? null : canonicalDecimal(r.vat_rate),
      amount: canonicalDecimal(r.amount!),
      vat_amount: canonicalDecimal(r.vat_amount!),
      amount_incl_vat: canonicalDecimal(r.amount_incl_vat!),
    }));
    const sum = (k: 'amount' | 'vat_amount' | 'amount_incl_vat') =>
      breakdown.reduce((total, r) => total.add(r[k]), new Dec(0));
    const totals = { net: sum('amount'), vat: sum('vat_amount'), gross: sum('amount_incl_vat') };
    const prepaid = await trx('receipts')
      .join('charging_sessions as s', 's.id', 'receipts.session_id')
      .where('s.invoice_id', id)
      .first(trx.raw('coalesce(sum(receipts.amount_paid), 0) AS paid'));
    const number = `INV-${String(await nextDocumentNumber(trx, req.organizationId, 'invoice')).padStart(6, '0')}`;
    const dueAt = new Date(req.issuedAt.getTime() + req.paymentTermDays * 86_400_000);
    await trx('invoices')
      .where({ id })
      .update({
        status: 'issued',
        number,
        session_count: sessions,
        total_excl_vat: totals.net.toString(),
        total_vat: totals.vat.toString(),
        total: totals.gross.toString(),
        amount_prepaid: prepaid.paid,
        amount_payable: totals.gross.sub(prepaid.paid).toString(),
        vat_breakdown: JSON.stringify(breakdown),
        issued_at: req.issuedAt,
        due_at: dueAt,
      });
    const issued = (await findInvoice(trx, id))!;
    const pdf = await req.render(issued, await summaryLines(trx, id));
    await trx('invoices').where({ id }).update({ pdf });
    await trx('outbox').insert({
      id: newId('evt'),
      organization_id: req.organizationId,
      type: 'invoice.issued',
      object_id: id,
      payload: JSON.stringify({
        id,
        number,
        period: req.period,
        total: issued.total,
        currency: issued.currency,
      }),
    });
    return issued;
  });
}

/** Sessions summed per site and VAT rate (an invoice of 100,000 sessions prints a page, not a book). */
async function summaryLines(db: Knex, invoiceId: string): Promise<InvoiceSummaryLine[]> {
  const sessions = await db('invoice_lines as l')
    .join('charging_sessions as s', 's.id', 'l.session_id')
    .join('charge_points as cp', 'cp.id', 's.charge_point_id')
    .join('sites', 'sites.id', 'cp.site_id')
    .where({ 'l.invoice_id': invoiceId, 'l.kind': 'session' })
    .groupBy('sites.name', 'l.vat_rate')
    .orderBy(['sites.name', 'l.vat_rate'])
    .select(
      'sites.name as site',
      'l.vat_rate',
      db.raw('count(DISTINCT l.session_id)::int AS sessions'),
      db.raw('sum(l.amount) AS amount'),
      db.raw('sum(l.vat_amount) AS vat_amount'),
    );
  const credits = await db('invoice_lines')
    .where({ invoice_id: invoiceId, kind: 'credit_note' })
    .orderBy('position')
    .select('description', 'vat_rate', 'amount', 'vat_amount');
  return [
    ...sessions.map((r) => ({
      description: `Charging sessions at ${r.site}`,
      quantity: `${r.sessions} session${r.sessions === 1 ? '' : 's'}`,
      vatRate: r.vat_rate === null ? null : canonicalDecimal(r.vat_rate),
      amount: canonicalDecimal(r.amount),
      vatAmount: canonicalDecimal(r.vat_amount),
    })),
    ...credits.map((r) => ({
      description: r.description,
      quantity: '',
      vatRate: r.vat_rate === null ? null : canonicalDecimal(r.vat_rate),
      amount: canonicalDecimal(r.amount),
      vatAmount: canonicalDecimal(r.vat_amount),
    })),
  ];
}

export async function markInvoiceEmailed(db: Knex, id: string, at: Date): Promise<void> {
  await db('invoices').where({ id }).whereNull('emailed_at').update({ emailed_at: at });
}

/** issued -> paid; undefined when it was not issued (already paid, void, or still a draft). */
export async function markInvoicePaid(
  db: Knex,
  id: string,
  p: { method: 'card' | 'bank_transfer'; reference: string | null; at: Date },
): Promise<Invoice | undefined> {
  const count = await db('invoices')
    .where({ id, status: 'issued' })
    .update({ status: 'paid', paid_at: p.at, payment_method: p.method, payment_reference: p.reference });
  return count === 1 ? findInvoice(db, id) : undefined;
}

/**
 * issued -> void, and what it billed is released: its sessions and credit notes go on the next invoice that
 * closes. Undefined when the invoice was not issued.
 */
export async function voidInvoice(
  db: Knex,
  id: string,
  reason: string,
  at: Date,
): Promise<Invoice | undefined> {
  return db.transaction(async (trx) => {
    const count = await trx('invoices')
      .where({ id, status: 'issued' })
      .update({ status: 'void', voided_at: at, void_reason: reason });
    if (count !== 1) return undefined;
    await trx('charging_sessions').where({ invoice_id: id }).update({ invoice_id: null });
    await trx('credit_notes').where({ applied_invoice_id: id }).update({ applied_invoice_id: null });
    return findInvoice(trx, id);
  });
}
