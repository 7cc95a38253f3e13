import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { ensureReconciliationSchedule, reconciliationScheduleId } from '../../api/billing-schedules';
import { newId } from '../../db/ids';
import { createStripeClient } from '../../payments/stripe-adapter';
import { dateFromEpochDay, epochDayOf, localParts } from '../../pricing/local-time';
import { Dec, fromMinorUnits, toMinorUnits } from '../../pricing/money';
import { reconciliationWorkflowId } from '../../workflows/reconciliation/messages';
import { BILLING_KIND, BILLING_STATUS } from '../../workflows/search-attributes';
import { tableCounts } from '../api/helpers';
import { useBillingStack } from '../support/billing-stack';

// Reconciliation on the real Temporal dev server and PostgreSQL, against the stateful Stripe fake: real
// billed sessions captured on both sides reconcile clean; differences seeded at the provider (a dashboard
// refund, a dispute, a payment captured there only) and in our database are each reported by kind.

const stack = useBillingStack('reconciliation', 'integration-reconciliation');
const { as } = stack;
const org = () => stack.fx.organizationId;
const TZ = 'Europe/Berlin';
const day = (offset: number) => dateFromEpochDay(epochDayOf(localParts(TZ, Date.now()).date) + offset);
const eur = (minor: number) => fromMinorUnits(minor, 'EUR').toFixed(2);
const sum = (xs: (string | number)[]) => xs.reduce<Dec>((s, x) => s.add(x), new Dec(0));

// Today with a day either side, so a run across local midnight still holds every record.
const range = () => ({ from: day(-1), to: day(2) });

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += text[i++];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',' || (c === '\r' && text[i + 1] === '\n')) {
      row.push(field);
      field = '';
      if (c === '\r') {
        rows.push(row);
        row = [];
        i++;
      }
    } else {
      field += c;
    }
  }
  return rows;
}

async function reconcile(expected = 201) {
  const res = await as('billing')('POST', '/reconciliations', range());
  expect({ status: res.status, error: res.body.error }).toEqual({ status: expected, error: undefined });
  return res.body;
}

async function allDifferences(reportId: string, kind?: string) {
  const all = [];
  let cursor = '';
  for (;;) {
    const query = `limit=2${kind ? `&kind=${kind}` : ''}${cursor}`;
    const page = (await as('owner')('GET', `/reconciliations/${reportId}/differences?${query}`)).body;
    all.push(...page.data);
    if (!page.has_more) return all;
    cursor = `&starting_after=${page.next_cursor}`;
  }
}

const paymentOf = (sessionId: string) => stack.tdb.db('payments').where({ session_id: sessionId }).first();

beforeAll(async () => {
  const res = await as('owner')('PATCH', `/organizations/${org()}`, { time_zone: TZ });
  expect(res.status).toBe(200);
});

describe('reconciliation workflow', () => {
  it('reconciles real captures clean, then reports each seeded difference by kind', async () => {
    const now = Date.now();
    const sessions = [];
    for (const wh of [8_000, 12_500, 21_000]) {
      sessions.push(await stack.billedSession({ stoppedAt: new Date(now - 60_000), wh }));
    }
    const payments = await Promise.all(sessions.map((s) => paymentOf(s.sessionId)));
    expect(payments.map((p) => p.status)).toEqual(['captured', 'captured', 'captured']);
    const capturedMinor = payments.map((p) => toMinorUnits(p.amount_captured, 'EUR'));
    // The fake's fee schedule: 1.4 % + 0.25, rounded half-up.
    const feeOf = (minor: number) => new Dec(minor).mul('0.014').round().toNumber() + 25;

    const clean = await reconcile();
    expect(clean).toMatchObject({
      object: 'reconciliation_report',
      organization_id: org(),
      ...range(),
      time_zone: TZ,
      currency: 'EUR',
      status: 'clean',
      difference_count: 0,
      deferred_count: 0,
      workflow_id: reconciliationWorkflowId(org(), range().from, range().to),
    });
    expect(clean.totals).toEqual({
      gross_revenue: sum(payments.map((p) => p.amount_captured)).toFixed(2),
      refunds: '0.00',
      processing_fees: eur(capturedMinor.map(feeOf).reduce((a, b) => a + b)),
      disputes: '0.00',
      dispute_fees: '0.00',
      other_fees: '0.00',
      net_settled: eur(capturedMinor.map((m) => m - feeOf(m)).reduce((a, b) => a + b)),
    });
    expect(new Dec(clean.totals.gross_revenue).sub(clean.totals.processing_fees).toFixed(2)).toBe(
      clean.totals.net_settled,
    );
    expect(await allDifferences(clean.id)).toEqual([]);

    // Seeded at the provider: a refund from the dashboard, a dispute, a payment captured there only.
    const stripe = createStripeClient({ secretKey: 'sk_test_integration', apiBase: stack.running.fake.url });
    const dashboardRefund = await stripe.refunds.create({
      payment_intent: payments[0].provider_payment_id,
      amount: 150,
    });
    const dispute = stack.running.fake.createDispute({
      paymentIntent: payments[1].provider_payment_id,
      reason: 'fraudulent',
    });
    const stray = await stripe.paymentIntents.create({
      amount: 4321,
      currency: 'eur',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
      metadata: { organization_id: org() },
    });
    await stripe.paymentIntents.capture(stray.id);
    // Seeded here: a captured amount that no longer matches, and an accounting event that failed to deliver.
    const changed = new Dec(payments[2].amount_captured).add('0.50').toFixed(2);
    await stack.tdb.db('payments').where({ id: payments[2].id }).update({ amount_captured: changed });
    const event = await stack.tdb
      .db('outbox')
      .where({ type: 'payment.captured', object_id: payments[0].id })
      .first();
    const endpointId = newId('we');
    await stack.tdb.db('webhook_endpoints').insert({
      id: endpointId,
      organization_id: org(),
      url: 'http://127.0.0.1:9/accounting',
      enabled_events: ['*'],
      status: 'enabled',
    });
    const deliveryId = newId('whd');
    await stack.tdb.db('webhook_deliveries').insert({
      id: deliveryId,
      endpoint_id: endpointId,
      event_id: event.id,
      event_seq: event.seq,
      object_id: payments[0].id,
      status: 'failed',
      attempts: 12,
      next_attempt_at: new Date(),
      deadline_at: new Date(),
    });

    const report = await reconcile();
    expect(report).toMatchObject({ id: clean.id, status: 'differences', difference_count: 6 });
    expect(report.differences_by_kind).toEqual({
      missing_capture: 1,
      amount_mismatch: 1,
      refund_not_recorded: 1,
      dispute: 1,
      fee: 1,
      webhook_undelivered: 1,
      other_currency: 0,
    });
    const differences = await allDifferences(report.id);
    const byKind = Object.fromEntries(differences.map((d: { kind: string }) => [d.kind, d]));
    expect(byKind.refund_not_recorded).toMatchObject({
      side: 'platform',
      payment_id: payments[0].id,
      provider_refund_id: dashboardRefund.id,
      provider_amount: eur(150),
      platform_amount: null,
    });
    expect(byKind.dispute).toMatchObject({
      side: 'platform',
      payment_id: payments[1].id,
      provider_dispute_id: dispute.id,
      provider_amount: eur(dispute.amount),
      detail: expect.stringContaining('not recorded here'),
    });
    const disputeFee = stack.running.fake.listBalanceTransactions().find((t) => t.source === dispute.id)!.fee;
    expect(byKind.fee).toMatchObject({ provider_dispute_id: dispute.id, provider_amount: eur(disputeFee) });
    expect(byKind.missing_capture).toMatchObject({
      side: 'platform',
      payment_id: null,
      provider_payment_id: stray.id,
      provider_amount: eur(4321),
    });
    expect(byKind.amount_mismatch).toMatchObject({
      payment_id: payments[2].id,
      platform_amount: changed,
      provider_amount: eur(capturedMinor[2]),
    });
    expect(byKind.webhook_undelivered).toMatchObject({
      payment_id: payments[0].id,
      detail: expect.stringContaining(deliveryId),
    });
    expect(await allDifferences(report.id, 'dispute')).toEqual([byKind.dispute]);

    // Totals: our gross moved by the changed amount; what settles is the provider's whole ledger of the org.
    const ledger = stack.running.fake.listBalanceTransactions().filter((t) => t.type !== 'transfer');
    expect(report.totals).toMatchObject({
      gross_revenue: new Dec(clean.totals.gross_revenue).add('0.50').toFixed(2),
      refunds: '0.00',
      disputes: eur(dispute.amount),
      dispute_fees: eur(disputeFee),
      processing_fees: eur(ledger.filter((t) => t.type === 'charge').reduce((s, t) => s + t.fee, 0)),
      net_settled: eur(ledger.reduce((s, t) => s + t.net, 0)),
    });

    // The CSV: a header, one row per difference in report order, then the totals.
    const csv = await stack.download(`/reconciliations/${report.id}/download`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = parseCsv(await csv.text());
    const [header, ...body] = rows;
    expect(header.slice(0, 2)).toEqual(['kind', 'side']);
    const column = (row: string[], name: string) => row[header.indexOf(name)];
    expect(body).toHaveLength(6 + 7);
    expect(body.slice(0, 6).map((r) => column(r, 'kind'))).toEqual(
      differences.map((d: { kind: string }) => d.kind),
    );
    expect(body.slice(0, 6).map((r) => column(r, 'detail'))).toEqual(
      differences.map((d: { detail: string }) => d.detail),
    );
    const mismatch = body.find((r) => column(r, 'kind') === 'amount_mismatch')!;
    expect([column(mismatch, 'platform_amount'), column(mismatch, 'provider_amount')]).toEqual([
      changed,
      eur(capturedMinor[2]),
    ]);
    const totals = Object.fromEntries(
      body
        .slice(6)
        .map((r) => [column(r, 'detail'), column(r, 'platform_amount') || column(r, 'provider_amount')]),
    );
    expect(totals).toEqual(report.totals);

    const list = (await as('owner')('GET', '/reconciliations')).body;
    expect(list.data.map((r: { id: string }) => r.id)).toEqual([report.id]);
    expect((await as('owner')('GET', `/reconciliations/${report.id}`)).body).toEqual(report);

    const handle = stack.env.client.workflow.getHandle(report.workflow_id);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(BILLING_KIND)).toBe('reconciliation');
    expect(description.typedSearchAttributes.get(BILLING_STATUS)).toBe('differences');
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
    if (process.env.RECORD_HISTORY) {
      const file = path.join(__dirname, '../replay/histories/reconciliation-v1.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
  });

  it('runs daily from a schedule: the local day before the run', async () => {
    const opts = { taskQueue: stack.timers.taskQueue, reconciliationLagSeconds: 0 };
    await ensureReconciliationSchedule(stack.env.client, { id: org(), timeZone: TZ }, opts);
    await ensureReconciliationSchedule(stack.env.client, { id: org(), timeZone: TZ }, opts);
    const schedule = stack.env.client.schedule.getHandle(reconciliationScheduleId(org()));
    expect((await schedule.describe()).spec.timezone).toBe(TZ);
    await schedule.trigger();
    const child = stack.env.client.workflow.getHandle(reconciliationWorkflowId(org(), day(-1), day(0)));
    let result;
    for (let i = 0; i < 100 && !result; i++) {
      result = await child.result().catch(() => new Promise((r) => setTimeout(() => r(undefined), 200)));
    }
    expect(result).toMatchObject({ from: day(-1), to: day(0), currency: 'EUR' });
    const report = (await as('owner')('GET', `/reconciliations/${(result as { reportId: string }).reportId}`))
      .body;
    expect(report).toMatchObject({ from: day(-1), to: day(0), lag_seconds: 0 });
    await schedule.delete();

    const parent = (await child.describe()).raw.workflowExecutionInfo?.parentExecution;
    const run = stack.env.client.workflow.getHandle(parent!.workflowId!, parent!.runId!);
    expect(await run.result()).toEqual(result);
    const history = await run.fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
    if (process.env.RECORD_HISTORY) {
      const file = path.join(__dirname, '../replay/histories/daily-reconciliation-v1.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
  });

  it('answers bad requests with a clear error and writes nothing', async () => {
    const before = await tableCounts(stack.tdb.db);
    const cases: [string, string, string, unknown, number, string | null][] = [
      ['billing', 'POST', '/reconciliations', { from: '2026-02-30', to: '2026-03-02' }, 400, 'from'],
      ['billing', 'POST', '/reconciliations', { from: '2026-03-01' }, 400, 'to'],
      ['billing', 'POST', '/reconciliations', { from: '2026-03-02', to: '2026-03-02' }, 400, 'to'],
      ['billing', 'POST', '/reconciliations', { from: '2026-01-01', to: '2026-04-05' }, 400, 'to'],
      ['billing', 'POST', '/reconciliations', { from: day(3), to: day(4) }, 400, 'from'],
      ['billing', 'POST', '/reconciliations', { from: day(-1), to: day(0), lag: 1 }, 400, 'lag'],
      ['owner', 'GET', '/reconciliations/recon_unknown', undefined, 404, null],
      ['owner', 'GET', '/reconciliations/recon_unknown/download', undefined, 404, null],
      ['owner', 'GET', '/reconciliations/recon_unknown/differences?kind=late', undefined, 400, 'kind'],
    ];
    for (const [who, method, p, body, status, param] of cases) {
      const res = await as(who as 'owner')(method, p, body);
      expect({ p, status: res.status, param: res.body.error?.param ?? null }).toEqual({ p, status, param });
    }
    // An admin may reconcile: a report moves no money.
    const admin = await as('admin')('POST', '/reconciliations', { from: day(-30), to: day(-29) });
    expect(admin.status).toBe(201);
    expect(await tableCounts(stack.tdb.db)).toEqual({
      ...before,
      reconciliation_reports: before.reconciliation_reports + 1,
    });
  });
});
