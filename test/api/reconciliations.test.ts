import { saveReport } from '../../db/repositories/reconciliations';
import type { ReconciliationWorkflows } from '../../api/reconciliation-workflows';
import { expectError, Harness, startHarness, Tenant } from './helpers';

// The reconciliation routes around the workflow, with the workflow service stubbed: a failed run answers
// 502 and names no internals; a report's differences page by position and filter by kind.

let h: Harness;
let acme: Tenant;
let globex: Tenant;
const run = jest.fn<ReturnType<ReconciliationWorkflows['run']>, Parameters<ReconciliationWorkflows['run']>>();

beforeAll(async () => {
  h = await startHarness('reconciliations', { reconciliations: { run } });
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
});
afterAll(() => h.close());

const difference = (i: number, kind: 'fee' | 'dispute') => ({
  kind,
  side: null,
  paymentId: null,
  providerPaymentId: `pi_${i}`,
  refundId: null,
  providerRefundId: null,
  disputeId: null,
  providerDisputeId: `dp_${i}`,
  balanceTransactionId: `txn_${i}`,
  platformAmount: null,
  providerAmount: `${i}.00`,
  currency: 'EUR',
  occurredAt: new Date(Date.UTC(2026, 7, 10, i)),
  detail: `item ${i}, "quoted"`,
});

describe('reconciliation routes', () => {
  it('answers 502 when the run fails', async () => {
    run.mockRejectedValueOnce(Object.assign(new Error('activity failed'), { name: 'WorkflowFailedError' }));
    const res = await acme.call('POST', '/reconciliations', {
      body: { from: '2026-08-10', to: '2026-08-11' },
    });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'reconciliation_failed' });
    expect(res.body.error.message).not.toContain('activity failed');
    expect(run).toHaveBeenCalledWith(
      expect.objectContaining({ id: acme.org.id }),
      '2026-08-10',
      '2026-08-11',
    );
  });

  it('pages differences by position, filters by kind, and keeps other organizations out', async () => {
    const kinds = ['fee', 'dispute', 'fee', 'fee', 'dispute'] as const;
    const report = await saveReport(h.db, {
      organizationId: acme.org.id,
      fromDate: '2026-08-10',
      toDate: '2026-08-11',
      timeZone: 'UTC',
      lagSeconds: 0,
      workflowId: null,
      generatedAt: new Date(),
      result: {
        currency: 'EUR',
        differences: kinds.map((k, i) => difference(i, k)),
        deferredCount: 0,
        totals: {
          grossRevenue: '0',
          refunds: '0',
          processingFees: '0',
          disputes: '0',
          disputeFees: '0',
          otherFees: '0',
          netSettled: '0',
        },
      },
    });
    const seen = [];
    let cursor = '';
    for (;;) {
      const page = (
        await acme.call('GET', `/reconciliations/${report.id}/differences?kind=fee&limit=2${cursor}`)
      ).body;
      seen.push(...page.data.map((d: { position: number; kind: string }) => [d.position, d.kind]));
      if (!page.has_more) break;
      cursor = `&starting_after=${page.next_cursor}`;
    }
    expect(seen).toEqual([
      [0, 'fee'],
      [2, 'fee'],
      [3, 'fee'],
    ]);
    const one = (await acme.call('GET', `/reconciliations/${report.id}`)).body;
    expect(one).toMatchObject({
      status: 'differences',
      difference_count: 5,
      differences_by_kind: { fee: 3, dispute: 2 },
    });
    expectError(
      await acme.call('GET', `/reconciliations/${report.id}/differences?starting_after=x`),
      400,
      'starting_after',
    );
    expectError(await globex.call('GET', `/reconciliations/${report.id}`), 404, null);
    expectError(await globex.call('GET', `/reconciliations/${report.id}/differences`), 404, null);
  });
});
