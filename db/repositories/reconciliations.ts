import type { Knex } from 'knex';
import type {
  Difference,
  DifferenceKind,
  ReconciliationResult,
  ReconciliationTotals,
} from '../../payments/reconciliation-model';
import { newId } from '../ids';
import { canonicalDecimal, canonicalDecimalOrNull } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

// Reconciliation reports, one per organization and range of local dates: a rerun replaces the totals and
// differences of the range in place (same id), in one transaction, so a reader never sees half a report.

export interface ReconciliationReport {
  id: string;
  organizationId: string;
  /** Local dates, the first day and the day after the last. */
  fromDate: string;
  toDate: string;
  timeZone: string;
  currency: string;
  status: 'clean' | 'differences';
  lagSeconds: number;
  totals: ReconciliationTotals;
  differenceCount: number;
  differenceCounts: Partial<Record<DifferenceKind, number>>;
  deferredCount: number;
  workflowId: string | null;
  generatedAt: Date;
  createdAt: Date;
}

export interface StoredDifference extends Difference {
  position: number;
}

const TOTALS: [keyof ReconciliationTotals, string][] = [
  ['grossRevenue', 'gross_revenue'],
  ['refunds', 'refunds'],
  ['processingFees', 'processing_fees'],
  ['disputes', 'disputes'],
  ['disputeFees', 'dispute_fees'],
  ['otherFees', 'other_fees'],
  ['netSettled', 'net_settled'],
];

const REPORT_COLUMNS = [
  '*',
  'from_date',
  "to_char(from_date, 'YYYY-MM-DD') as from_text",
  "to_char(to_date, 'YYYY-MM-DD') as to_text",
];

function toReport(r: Record<string, never>): ReconciliationReport {
  return {
    id: r.id,
    organizationId: r.organization_id,
    fromDate: r.from_text,
    toDate: r.to_text,
    timeZone: r.time_zone,
    currency: r.currency,
    status: r.status,
    lagSeconds: r.lag_seconds,
    totals: Object.fromEntries(TOTALS.map(([k, c]) => [k, canonicalDecimal(r[c])])) as never,
    differenceCount: r.difference_count,
    differenceCounts: r.difference_counts,
    deferredCount: r.deferred_count,
    workflowId: r.workflow_id,
    generatedAt: r.generated_at,
    createdAt: r.created_at,
  };
}

const reportQuery = (db: Knex) => db('reconciliation_reports').select(db.raw(REPORT_COLUMNS.join(', ')));

export interface NewReport {
  organizationId: string;
  fromDate: string;
  toDate: string;
  timeZone: string;
  lagSeconds: number;
  workflowId: string | null;
  generatedAt: Date;
  result: ReconciliationResult;
}

const INSERT_BATCH = 500;

export async function saveReport(db: Knex, n: NewReport): Promise<ReconciliationReport> {
  const counts: Partial<Record<DifferenceKind, number>> = {};
  for (const d of n.result.differences) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
  const values = {
    time_zone: n.timeZone,
    currency: n.result.currency,
    status: n.result.differences.length === 0 ? 'clean' : 'differences',
    lag_seconds: n.lagSeconds,
    ...Object.fromEntries(TOTALS.map(([k, c]) => [c, n.result.totals[k]])),
    difference_count: n.result.differences.length,
    difference_counts: JSON.stringify(counts),
    deferred_count: n.result.deferredCount,
    workflow_id: n.workflowId,
    generated_at: n.generatedAt,
  };
  const id = await db.transaction(async (trx) => {
    const [row] = await trx('reconciliation_reports')
      .insert({
        id: newId('recon'),
        organization_id: n.organizationId,
        from_date: n.fromDate,
        to_date: n.toDate,
        ...values,
      })
      .onConflict(['organization_id', 'from_date', 'to_date'])
      .merge(Object.keys(values))
      .returning('id');
    await trx('reconciliation_differences').where({ report_id: row.id }).delete();
    const rows = n.result.differences.map((d, position) => ({
      report_id: row.id,
      position,
      kind: d.kind,
      side: d.side,
      payment_id: d.paymentId,
      provider_payment_id: d.providerPaymentId,
      refund_id: d.refundId,
      provider_refund_id: d.providerRefundId,
      dispute_id: d.disputeId,
      provider_dispute_id: d.providerDisputeId,
      provider_balance_transaction_id: d.balanceTransactionId,
      platform_amount: d.platformAmount,
      provider_amount: d.providerAmount,
      currency: d.currency,
      occurred_at: d.occurredAt,
      detail: d.detail,
    }));
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await trx('reconciliation_differences').insert(rows.slice(i, i + INSERT_BATCH));
    }
    return row.id as string;
  });
  return (await getReport(db, n.organizationId, id))!;
}

export async function getReport(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<ReconciliationReport | undefined> {
  const row = await reportQuery(db).where({ organization_id: organizationId, id }).first();
  return row && toReport(row);
}

export function listReports(
  db: Knex,
  organizationId: string,
  page: PageRequest,
): Promise<Page<ReconciliationReport>> {
  return fetchPage(reportQuery(db).where({ organization_id: organizationId }), page, 'id', toReport);
}

const toDifference = (r: Record<string, never>): StoredDifference => ({
  position: r.position,
  kind: r.kind,
  side: r.side,
  paymentId: r.payment_id,
  providerPaymentId: r.provider_payment_id,
  refundId: r.refund_id,
  providerRefundId: r.provider_refund_id,
  disputeId: r.dispute_id,
  providerDisputeId: r.provider_dispute_id,
  balanceTransactionId: r.provider_balance_transaction_id,
  platformAmount: canonicalDecimalOrNull(r.platform_amount),
  providerAmount: canonicalDecimalOrNull(r.provider_amount),
  currency: r.currency,
  occurredAt: r.occurred_at,
  detail: r.detail,
});

/** A page of the report's differences in report order; the cursor is a position. */
export function listDifferences(
  db: Knex,
  reportId: string,
  filter: { kind?: DifferenceKind },
  page: { limit: number; startingAfter?: number },
): Promise<Page<StoredDifference>> {
  const query = db('reconciliation_differences').where({ report_id: reportId });
  if (filter.kind) query.where({ kind: filter.kind });
  const request: PageRequest = {
    limit: page.limit,
    startingAfter: page.startingAfter === undefined ? undefined : String(page.startingAfter),
  };
  return fetchPage(query, request, 'position', toDifference);
}
