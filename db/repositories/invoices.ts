import type { Knex } from 'knex';
import { Dec } from '../../pricing/money';
import { invoiceObject } from '../../events/payloads';
import { newId } from '../ids';
import { type Actor, appendAudit, SYSTEM } from './auditLog';
import { recordEvent } from './events';
import { lastDayOf, periodBounds } from '../../pricing/calendar-months';
import { CreditNoteLine, nextDocumentNumber } from './creditNotes';
import { canonicalDecimal } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

// An organization's monthly invoice. What it bills: every receipt of the organization's sessions with an
// amount due (nothing, or not all, was paid by card at the charger) that ended before the period's end and
// is on no invoice yet, so a session that arrives late from an offline charge point goes on the next invoice
// to close. Credit notes of exemptions on such amounts are applied the same way. A session's lines on the
// invoice are its receipt's own lines summed per VAT rate (read through invoice_sessions, never copied), so
// an invoice's session lines add up to those receipts exactly.

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

/** The invoice's session lines (each session's receipt lines summed per VAT rate), a page of sessions at a time. */
export async function invoiceSessionLines(
  db: Knex,
  invoiceId: string,
  page: PageRequest,
): Promise<Page<InvoiceLine & { sessionId: string }>> {
  const sessions = db('invoice_sessions').where({ invoice_id: invoiceId }).select('session_id');
  if (page.startingAfter !== undefined) sessions.where('session_id', '>', page.startingAfter);
  const ids: string[] = (await sessions.orderBy('session_id').limit(page.limit + 1)).map((r) => r.session_id);
  const hasMore = ids.length > page.limit;
  const rows = await db('charging_sessions as s')
    .join('receipts as r', 'r.session_id', 's.id')
    .join('receipt_lines as rl', 'rl.receipt_id', 'r.id')
    .whereIn('s.id', ids.slice(0, page.limit))
    .groupBy('s.id', 's.energy_wh', 'rl.vat_rate')
    .orderBy('s.id')
    .orderByRaw('rl.vat_rate NULLS FIRST')
    .select(
      's.id as session_id',
      's.energy_wh',
      'rl.vat_rate',
      db.raw('sum(rl.amount) AS amount'),
      db.raw('sum(rl.vat_amount) AS vat_amount'),
      db.raw('sum(rl.amount_incl_vat) AS amount_incl_vat'),
    );
  return {
    hasMore,
    data: rows.map((r, i) => ({
      position: i + 1,
      kind: 'session' as const,
      sessionId: r.session_id,
      creditNoteId: null,
      description: `Charging session ${r.session_id}, ${new Dec(r.energy_wh ?? 0).div(1000).toFixed(3)} kWh`,
      vatRate: r.vat_rate === null ? null : canonicalDecimal(r.vat_rate),
      amount: canonicalDecimal(r.amount),
      vatAmount: canonicalDecimal(r.vat_amount),
      amountInclVat: canonicalDecimal(r.amount_incl_vat),
    })),
  };
}

/** The credit notes applied on the invoice, a line per VAT rate of each, as negative amounts. */
export async function invoiceCreditLines(db: Knex, invoiceId: string): Promise<InvoiceLine[]> {
  const notes = await db('credit_notes').where({ applied_invoice_id: invoiceId }).orderBy('number');
  return notes.flatMap((cn) => creditLinesOf(cn)).map((l, i) => ({ ...l, position: i + 1 }));
}

function creditLinesOf(cn: { id: string; number: string; lines: CreditNoteLine[] }): InvoiceLine[] {
  return cn.lines.map((l) => ({
    position: 0,
    kind: 'credit_note' as const,
    sessionId: null,
    creditNoteId: cn.id,
    description: `Credit note ${cn.number}: ${l.description}`,
    vatRate: l.vatRate === null ? null : canonicalDecimal(l.vatRate),
    amount: new Dec(l.amount).neg().toString(),
    vatAmount: new Dec(l.vatAmount).neg().toString(),
    amountInclVat: new Dec(l.amountInclVat).neg().toString(),
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

/** The period's live invoice, created as a draft on first sight. */
async function liveOrDraft(
  db: Knex,
  organizationId: string,
  period: string,
  currency: string,
): Promise<Invoice> {
  await db('invoices')
    .insert({
      id: newId('inv'),
      organization_id: organizationId,
      period,
      period_start: `${period}-01`,
      period_end: lastDayOf(period),
      status: 'draft',
      currency,
    })
    .onConflict(db.raw("(organization_id, period) WHERE status <> 'void'"))
    .ignore();
  return (await findLiveInvoice(db, organizationId, period))!;
}

/** The open period's invoice: created on first sight, with a running total of what it would bill now. */
export async function draftInvoice(
  db: Knex,
  org: { id: string; timeZone: string; currency: string },
  period: string,
): Promise<Invoice> {
  const invoice = await liveOrDraft(db, org.id, period, org.currency);
  if (invoice.status !== 'draft') return invoice;
  const { end } = periodBounds(org.timeZone, period);
  // A receipt's totals are the sums of its lines.
  const running = await billable(db, org.id, end).first(
    db.raw('count(*)::int AS sessions'),
    db.raw('coalesce(sum(r.total_excl_vat), 0) AS net'),
    db.raw('coalesce(sum(r.total_vat), 0) AS vat'),
    db.raw('coalesce(sum(r.total), 0) AS gross'),
    db.raw('coalesce(sum(r.amount_paid), 0) AS paid'),
  );
  return {
    ...invoice,
    sessionCount: running.sessions,
    totalExclVat: canonicalDecimal(running.net),
    totalVat: canonicalDecimal(running.vat),
    total: canonicalDecimal(running.gross),
    amountPrepaid: canonicalDecimal(running.paid),
    amountPayable: new Dec(running.gross).sub(running.paid).toString(),
  };
}

/** Sessions (joined to their receipts as `r`) the next invoice closing before `end` bills. */
function billable(db: Knex, organizationId: string, end: Date): Knex.QueryBuilder {
  return db('charging_sessions as s')
    .join('receipts as r', 'r.session_id', 's.id')
    .where('s.organization_id', organizationId)
    .where('r.amount_due', '>', 0)
    .where('s.stopped_at', '<', end)
    .whereNotExists(db('invoice_sessions as i').whereRaw('i.session_id = s.id').select(db.raw('1')));
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
    const current = await liveOrDraft(trx, req.organizationId, req.period, req.currency);
    if (current.status !== 'draft') return current;
    const id = current.id;
    const { end } = periodBounds(req.timeZone, req.period);

    // The sessions to bill, read first: an INSERT that also anti-joins its own target table is quadratic when
    // the planner takes that table for empty (a first closing), as every probe rescans what it just wrote.
    const selection = billable(trx, req.organizationId, end).select('s.id').toSQL();
    await trx.raw(
      `CREATE TEMP TABLE invoice_candidates ON COMMIT DROP AS ${selection.sql}`,
      selection.bindings,
    );
    await trx.raw('ANALYZE invoice_candidates');
    // Claimed under the organization's lock, so every candidate is inserted; the key of invoice_sessions would
    // refuse a second claim all the same.
    const claimed = await trx.raw(
      'INSERT INTO invoice_sessions (session_id, invoice_id) SELECT id, ? FROM invoice_candidates',
      [id],
    );
    // Their receipt lines per site and VAT rate, and the receipts' prepaid amounts.
    const siteRows: {
      site_id: string;
      vat_rate: string | null;
      sessions: number;
      amount: string;
      vat_amount: string;
      amount_incl_vat: string;
    }[] = (
      await trx.raw(
        `SELECT cp.site_id, rl.vat_rate, count(DISTINCT r.id)::int AS sessions, sum(rl.amount) AS amount,
                sum(rl.vat_amount) AS vat_amount, sum(rl.amount_incl_vat) AS amount_incl_vat
         FROM invoice_candidates c
         JOIN charging_sessions s ON s.id = c.id
         JOIN charge_points cp ON cp.id = s.charge_point_id
         JOIN receipts r ON r.session_id = c.id
         JOIN receipt_lines rl ON rl.receipt_id = r.id
         GROUP BY cp.site_id, rl.vat_rate`,
      )
    ).rows;
    const receiptsRow: { sessions: number; paid: string } = (
      await trx.raw(
        `SELECT count(*)::int AS sessions, coalesce(sum(r.amount_paid), 0) AS paid
         FROM invoice_candidates c JOIN receipts r ON r.session_id = c.id`,
      )
    ).rows[0];
    if (receiptsRow.sessions !== claimed.rowCount) {
      throw new Error('invoice candidates changed while claimed');
    }

    // Credit notes waiving amounts due, not applied yet, whose session this or an earlier invoice billed: a
    // waiver issued after its session's invoice goes on the next one.
    const credits: { id: string; number: string; lines: CreditNoteLine[] }[] = await trx('credit_notes as cn')
      .where('cn.organization_id', req.organizationId)
      .whereNull('cn.applied_invoice_id')
      .whereExists(
        trx('exemptions as e')
          .whereRaw('e.id = cn.exemption_id')
          .where('e.reversal', 'invoice_credit')
          .select(trx.raw('1')),
      )
      .whereExists(trx('invoice_sessions as i').whereRaw('i.session_id = cn.session_id').select(trx.raw('1')))
      .update({ applied_invoice_id: id })
      .returning(['cn.id', 'cn.number', 'cn.lines']);
    const creditLines = credits.sort((a, b) => (a.number < b.number ? -1 : 1)).flatMap(creditLinesOf);

    const byRate = new Map<string, { rate: string | null; net: Dec; vat: Dec; gross: Dec }>();
    const add = (rate: string | null, net: string, vat: string, gross: string) => {
      const key = rate === null ? '' : new Dec(rate).toString();
      const row = byRate.get(key) ?? {
        rate: rate === null ? null : key,
        net: new Dec(0),
        vat: new Dec(0),
        gross: new Dec(0),
      };
      row.net = row.net.add(net);
      row.vat = row.vat.add(vat);
      row.gross = row.gross.add(gross);
      byRate.set(key, row);
    };
    for (const r of siteRows) add(r.vat_rate, r.amount, r.vat_amount, r.amount_incl_vat);
    for (const l of creditLines) add(l.vatRate, l.amount, l.vatAmount, l.amountInclVat);
    const breakdown: VatBreakdownRow[] = [...byRate.values()]
      .sort((a, b) => (a.rate === null ? -1 : b.rate === null ? 1 : new Dec(a.rate).cmp(b.rate)))
      .map((r) => ({
        vat_rate: r.rate,
        amount: r.net.toString(),
        vat_amount: r.vat.toString(),
        amount_incl_vat: r.gross.toString(),
      }));
    const sum = (k: 'amount' | 'vat_amount' | 'amount_incl_vat') =>
      breakdown.reduce((total, r) => total.add(r[k]), new Dec(0));
    const totals = { net: sum('amount'), vat: sum('vat_amount'), gross: sum('amount_incl_vat') };
    const prepaid = new Dec(receiptsRow.paid);

    const number = `INV-${String(await nextDocumentNumber(trx, req.organizationId, 'invoice')).padStart(6, '0')}`;
    const dueAt = new Date(req.issuedAt.getTime() + req.paymentTermDays * 86_400_000);
    await trx('invoices')
      .where({ id })
      .update({
        status: 'issued',
        number,
        session_count: receiptsRow.sessions,
        total_excl_vat: totals.net.toString(),
        total_vat: totals.vat.toString(),
        total: totals.gross.toString(),
        amount_prepaid: prepaid.toString(),
        amount_payable: totals.gross.sub(prepaid).toString(),
        vat_breakdown: JSON.stringify(breakdown),
        issued_at: req.issuedAt,
        due_at: dueAt,
      });
    const issued = (await findInvoice(trx, id))!;
    const siteNames = new Map<string, string>(
      (
        await trx('sites')
          .whereIn('id', [...new Set(siteRows.map((r) => r.site_id!))])
          .select('id', 'name')
      ).map((r) => [r.id, r.name]),
    );
    const summary: InvoiceSummaryLine[] = [
      ...siteRows
        .sort((a, b) => `${siteNames.get(a.site_id)}`.localeCompare(`${siteNames.get(b.site_id)}`))
        .map((r) => ({
          description: `Charging sessions at ${siteNames.get(r.site_id)}`,
          quantity: `${r.sessions} session${r.sessions === 1 ? '' : 's'}`,
          vatRate: r.vat_rate === null ? null : canonicalDecimal(r.vat_rate),
          amount: canonicalDecimal(r.amount),
          vatAmount: canonicalDecimal(r.vat_amount),
        })),
      ...creditLines.map((l) => ({
        description: l.description,
        quantity: '',
        vatRate: l.vatRate,
        amount: l.amount,
        vatAmount: l.vatAmount,
      })),
    ];
    const pdf = await req.render(issued, summary);
    await trx('invoices').where({ id }).update({ pdf });
    const object = invoiceObject(issued);
    await recordEvent(trx, {
      organizationId: req.organizationId,
      type: 'invoice.issued',
      objectType: 'invoice',
      objectId: id,
      object,
    });
    await appendAudit(trx, {
      organizationId: req.organizationId,
      actor: SYSTEM,
      action: 'invoice.issued',
      objectType: 'invoice',
      objectId: id,
      after: object,
    });
    return issued;
  });
}

export async function markInvoiceEmailed(db: Knex, id: string, at: Date): Promise<void> {
  await db('invoices').where({ id }).whereNull('emailed_at').update({ emailed_at: at });
}

/** issued -> paid; undefined when it was not issued (already paid, void, or still a draft). */
export async function markInvoicePaid(
  db: Knex,
  id: string,
  p: { method: 'card' | 'bank_transfer'; reference: string | null; at: Date; actor: Actor },
): Promise<Invoice | undefined> {
  return db.transaction(async (trx) => {
    const before = await findInvoice(trx, id);
    const count = await trx('invoices')
      .where({ id, status: 'issued' })
      .update({ status: 'paid', paid_at: p.at, payment_method: p.method, payment_reference: p.reference });
    if (count !== 1) return undefined;
    const paid = (await findInvoice(trx, id))!;
    await announceInvoiceChange(trx, 'invoice.paid', p.actor, before!, paid);
    return paid;
  });
}

async function announceInvoiceChange(
  trx: Knex,
  type: 'invoice.paid' | 'invoice.voided',
  actor: Actor,
  before: Invoice,
  after: Invoice,
): Promise<void> {
  const object = invoiceObject(after);
  const target = { organizationId: after.organizationId, objectType: 'invoice', objectId: after.id };
  await recordEvent(trx, { ...target, type, object });
  await appendAudit(trx, { ...target, actor, action: type, before: invoiceObject(before), after: object });
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
  actor: Actor,
): Promise<Invoice | undefined> {
  return db.transaction(async (trx) => {
    const org = await trx('invoices').where({ id }).first('organization_id');
    if (!org) return undefined;
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`invoice:${org.organization_id}`]);
    const count = await trx('invoices')
      .where({ id, status: 'issued' })
      .update({ status: 'void', voided_at: at, void_reason: reason });
    if (count !== 1) return undefined;
    await trx('invoice_sessions').where({ invoice_id: id }).delete();
    await trx('credit_notes').where({ applied_invoice_id: id }).update({ applied_invoice_id: null });
    const voided = (await findInvoice(trx, id))!;
    await announceInvoiceChange(trx, 'invoice.voided', actor, { ...voided, status: 'issued' }, voided);
    return voided;
  });
}
