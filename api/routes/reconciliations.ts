import type { Response, Router } from 'express';
import { DIFFERENCE_KINDS, DifferenceKind } from '../../payments/reconciliation-model';
import {
  getReport,
  listDifferences,
  listReports,
  ReconciliationReport,
  StoredDifference,
} from '../../db/repositories/reconciliations';
import { dateFromEpochDay, epochDayOf, localParts } from '../../pricing/local-time';
import { BILLING, OPERATORS, organizationOf } from '../auth';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, resourceMissing } from '../errors';
import { act, read } from '../handler';
import { iso, money } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { readBody, requiredString } from '../validation';
import { csvRow } from '../csv';

const MAX_DAYS = 93;
// Owners, admins and billing delegates: a report moves no money, but shows all of it.
const RECONCILERS = [...new Set([...OPERATORS, ...BILLING])];

function parseDate(raw: string, param: string): number {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? epochDayOf(raw) : NaN;
  if (Number.isNaN(day) || dateFromEpochDay(day) !== raw)
    throw invalidParam(param, 'must be a date as YYYY-MM-DD');
  return day;
}

const TOTAL_FIELDS = [
  ['gross_revenue', 'grossRevenue', 'platform'],
  ['refunds', 'refunds', 'platform'],
  ['processing_fees', 'processingFees', 'provider'],
  ['disputes', 'disputes', 'provider'],
  ['dispute_fees', 'disputeFees', 'provider'],
  ['other_fees', 'otherFees', 'provider'],
  ['net_settled', 'netSettled', 'provider'],
] as const;

function reportJson(r: ReconciliationReport) {
  return {
    object: 'reconciliation_report',
    id: r.id,
    organization_id: r.organizationId,
    from: r.fromDate,
    to: r.toDate,
    time_zone: r.timeZone,
    currency: r.currency,
    status: r.status,
    lag_seconds: r.lagSeconds,
    totals: Object.fromEntries(TOTAL_FIELDS.map(([json, key]) => [json, money(r.totals[key], r.currency)])),
    difference_count: r.differenceCount,
    differences_by_kind: Object.fromEntries(DIFFERENCE_KINDS.map((k) => [k, r.differenceCounts[k] ?? 0])),
    deferred_count: r.deferredCount,
    workflow_id: r.workflowId,
    generated_at: iso(r.generatedAt),
    created_at: iso(r.createdAt),
  };
}

const DIFFERENCE_COLUMNS = [
  'kind',
  'side',
  'payment_id',
  'provider_payment_id',
  'refund_id',
  'provider_refund_id',
  'dispute_id',
  'provider_dispute_id',
  'provider_balance_transaction_id',
  'platform_amount',
  'provider_amount',
  'currency',
  'occurred_at',
  'detail',
] as const;

function differenceJson(d: StoredDifference) {
  return {
    object: 'reconciliation_difference',
    position: d.position,
    kind: d.kind,
    side: d.side,
    payment_id: d.paymentId,
    provider_payment_id: d.providerPaymentId,
    refund_id: d.refundId,
    provider_refund_id: d.providerRefundId,
    dispute_id: d.disputeId,
    provider_dispute_id: d.providerDisputeId,
    provider_balance_transaction_id: d.balanceTransactionId,
    platform_amount: money(d.platformAmount, d.currency),
    provider_amount: money(d.providerAmount, d.currency),
    currency: d.currency,
    occurred_at: iso(d.occurredAt),
    detail: d.detail,
  };
}

function differenceCursor(query: Record<string, unknown>): { limit: number; startingAfter?: number } {
  const { limit, startingAfter } = parsePage(query);
  if (startingAfter !== undefined && !/^\d{1,9}$/.test(startingAfter)) {
    throw invalidParam('starting_after', 'must be the next_cursor of the previous page');
  }
  return { limit, startingAfter: startingAfter === undefined ? undefined : Number(startingAfter) };
}

async function reportOf(deps: ResolvedDeps, orgId: string, id: string): Promise<ReconciliationReport> {
  const report = await getReport(deps.db, orgId, id);
  if (!report) throw resourceMissing('reconciliation report', id);
  return report;
}

/** One row per difference, then one per total (kind `total`, its name under detail), all in one table. */
async function sendCsv(deps: ResolvedDeps, res: Response, report: ReconciliationReport): Promise<void> {
  res
    .status(200)
    .set('Content-Type', 'text/csv; charset=utf-8')
    .set(
      'Content-Disposition',
      `attachment; filename="reconciliation-${report.fromDate}-${report.toDate}.csv"`,
    );
  res.write(csvRow(DIFFERENCE_COLUMNS));
  let startingAfter: number | undefined;
  for (;;) {
    const page = await listDifferences(deps.db, report.id, {}, { limit: 1000, startingAfter });
    for (const d of page.data) {
      const json = differenceJson(d);
      res.write(csvRow(DIFFERENCE_COLUMNS.map((c) => json[c])));
    }
    if (!page.hasMore) break;
    startingAfter = page.data[page.data.length - 1].position;
  }
  for (const [name, key, side] of TOTAL_FIELDS) {
    const amount = money(report.totals[key], report.currency);
    const row: Record<string, string | null> = {
      kind: 'total',
      side,
      platform_amount: side === 'platform' ? amount : null,
      provider_amount: side === 'provider' ? amount : null,
      currency: report.currency,
      detail: name,
    };
    res.write(csvRow(DIFFERENCE_COLUMNS.map((c) => row[c] ?? null)));
  }
  res.end();
}

export function registerReconciliationRoutes(router: Router, deps: ResolvedDeps): void {
  // Compares at once and answers with the report; a rerun of the same range replaces it.
  router.post(
    '/reconciliations',
    act(
      deps,
      async ({ org, body: raw }) => {
        const body = readBody(raw, ['from', 'to']);
        const from = requiredString(body, 'from', { max: 10 });
        const to = requiredString(body, 'to', { max: 10 });
        const fromDay = parseDate(from, 'from');
        const toDay = parseDate(to, 'to');
        if (toDay <= fromDay) throw invalidParam('to', 'must be after from');
        if (toDay - fromDay > MAX_DAYS)
          throw invalidParam('to', `must be at most ${MAX_DAYS} days after from`);
        const today = epochDayOf(localParts(org.timeZone, Date.now()).date);
        if (fromDay > today) throw invalidParam('from', 'must not be in the future');
        if (!deps.reconciliations) {
          throw new ApiError(
            503,
            'api_error',
            'workflows_unavailable',
            'Reconciliation needs the workflow service.',
          );
        }
        const result = await deps.reconciliations.run(org, from, to).catch((err: Error) => {
          if (err.name !== 'WorkflowFailedError') throw err;
          throw new ApiError(
            502,
            'api_error',
            'reconciliation_failed',
            `The reconciliation of ${from} to ${to} failed; its workflow in the Temporal UI says why.`,
          );
        });
        return { status: 201, body: reportJson(await reportOf(deps, org.id, result.reportId)) };
      },
      RECONCILERS,
    ),
  );

  router.get(
    '/reconciliations',
    read(deps, async ({ db, org, query }) => {
      const page = await listReports(db, org.id, parsePage(query));
      return { status: 200, body: listEnvelope(page, reportJson, (r) => r.id) };
    }),
  );

  router.get(
    '/reconciliations/:id',
    read(deps, async ({ org, params }) => ({
      status: 200,
      body: reportJson(await reportOf(deps, org.id, params.id)),
    })),
  );

  router.get(
    '/reconciliations/:id/differences',
    read(deps, async ({ org, params, query }) => {
      const kind = queryString(query, 'kind');
      if (kind !== undefined && !(DIFFERENCE_KINDS as readonly string[]).includes(kind)) {
        throw invalidParam('kind', `must be one of ${DIFFERENCE_KINDS.join(', ')}`);
      }
      const report = await reportOf(deps, org.id, params.id);
      const page = await listDifferences(
        deps.db,
        report.id,
        { kind: kind as DifferenceKind | undefined },
        differenceCursor(query),
      );
      return { status: 200, body: listEnvelope(page, differenceJson, (d) => String(d.position)) };
    }),
  );

  router.get('/reconciliations/:id/download', async (req, res) => {
    const org = organizationOf(res);
    await sendCsv(deps, res, await reportOf(deps, org.id, String(req.params.id)));
  });
}
