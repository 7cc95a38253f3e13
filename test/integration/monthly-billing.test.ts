import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { ensureBillingSchedule, billingScheduleId } from '../../api/billing-schedules';
import { allowanceHistory } from '../../db/repositories/allowances';
import { BILLING_KIND, BILLING_PERIOD } from '../../workflows/search-attributes';
import { useBillingStack } from '../support/billing-stack';
import { periodOf } from '../../pricing/calendar-months';

// The organization's monthly schedule on the real Temporal dev server: a backfill runs it as of the 1st of a
// month, which opens that month's allowances and closes the month before's invoice, in the organization's
// time zone (here New York), from the run's nominal time, and a second run changes nothing.

const stack = useBillingStack('monthly', 'integration-monthly', { paymentMethodId: null });
const { as } = stack;
const org = () => ({ id: stack.fx.organizationId, timeZone: 'America/New_York' });

async function finished<T>(workflowId: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    try {
      return (await stack.env.client.workflow.getHandle(workflowId).result()) as T;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${workflowId} never ran`);
}

beforeAll(async () => {
  expect(
    (await as('owner')('PATCH', `/organizations/${org().id}`, { time_zone: org().timeZone })).status,
  ).toBe(200);
  const allowance = await as('owner')('PUT', `/monthly-energy/users/${stack.fx.userId}/allowance`, {
    monthly_kwh: 15,
  });
  expect(allowance.status).toBe(200);
});

describe('monthly billing schedule', () => {
  it('is created once per organization, in its time zone, with a catch-up window and an overlap policy', async () => {
    const opts = { taskQueue: stack.timers.taskQueue };
    await ensureBillingSchedule(stack.env.client, { id: org().id, timeZone: 'UTC' }, opts);
    // The organization's zone changed: the existing schedule follows it instead of a second one appearing.
    await ensureBillingSchedule(stack.env.client, org(), opts);
    await ensureBillingSchedule(stack.env.client, org(), opts);
    const described = await stack.env.client.schedule.getHandle(billingScheduleId(org().id)).describe();
    expect(described.spec.timezone).toBe('America/New_York');
    expect(described.spec.calendars?.[0]).toMatchObject({ dayOfMonth: [{ start: 1, end: 1, step: 1 }] });
    expect(described.policies.catchupWindow).toBe(7 * 24 * 3600 * 1000);
    expect(described.policies.overlap).toBe('BUFFER_ALL');
    const schedules = [];
    for await (const s of stack.env.client.schedule.list()) schedules.push(s.scheduleId);
    expect(schedules.filter((id) => id === billingScheduleId(org().id))).toHaveLength(1);
  });

  it('resets allowances at local midnight and closes the month before, once, from the nominal time', async () => {
    // 23:00 on 31 October in New York (03:00 UTC on 1 November): the whole session counts in October,
    // the month it started in.
    const october = await stack.billedSession({ stoppedAt: new Date('2026-11-01T03:40:00Z'), minutes: 40 });
    // 00:10 on 1 November in New York.
    const november = await stack.billedSession({ stoppedAt: new Date('2026-11-01T04:50:00Z'), minutes: 40 });

    const backfill = await as('billing')(
      'POST',
      `/organizations/${org().id}/schedules/monthly-billing/backfill`,
      {
        from: '2026-11',
        to: '2026-11',
      },
    );
    expect(backfill.status).toBe(202);
    expect(backfill.body.runs).toBe(1);
    const reset = await finished<{ closed: number; opened: number }>(`allowance-reset:${org().id}:2026-11`);
    expect(reset).toEqual({ closed: 1, opened: 0 });
    const invoice = await finished<{ invoiceId: string; number: string }>(
      `invoice-close:${org().id}:2026-10`,
    );
    expect(invoice.number).toBe('INV-000001');

    const history = await allowanceHistory(stack.tdb.db, stack.fx.userId);
    expect(history.map((h) => ({ ...h, closedAt: h.closedAt !== null }))).toEqual([
      { period: '2026-11', usedKwh: '10', allowanceKwh: null, closedAt: false },
      { period: '2026-10', usedKwh: '10', allowanceKwh: '15', closedAt: true },
    ]);
    const lines = (await as('owner')('GET', `/invoices/${invoice.invoiceId}/lines`)).body.data;
    expect(lines.map((l: { session_id: string }) => l.session_id)).toContain(october.sessionId);
    expect(lines.map((l: { session_id: string }) => l.session_id)).not.toContain(november.sessionId);

    const described = await stack.env.client.workflow
      .getHandle(`allowance-reset:${org().id}:2026-11`)
      .describe();
    expect(described.typedSearchAttributes.get(BILLING_KIND)).toBe('allowance-reset');
    expect(described.typedSearchAttributes.get(BILLING_PERIOD)).toBe('2026-11');

    // The same month again: the children run again and change nothing.
    const again = await as('billing')(
      'POST',
      `/organizations/${org().id}/schedules/monthly-billing/backfill`,
      {
        from: '2026-11',
        to: '2026-11',
      },
    );
    expect(again.status).toBe(202);
    for (let i = 0; i < 100; i++) {
      const runs = [];
      for await (const w of stack.env.client.workflow.list({
        query: `WorkflowId = 'allowance-reset:${org().id}:2026-11' AND ExecutionStatus = 'Completed'`,
      }))
        runs.push(w);
      if (runs.length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await finished(`allowance-reset:${org().id}:2026-11`)).toEqual({ closed: 0, opened: 0 });
    expect((await finished<{ number: string }>(`invoice-close:${org().id}:2026-10`)).number).toBe(
      'INV-000001',
    );
    const invoices = (await as('owner')('GET', `/organizations/${org().id}/invoices?period=2026-10`)).body
      .data;
    expect(invoices).toHaveLength(1);

    // Both workflows replay with today's code; RECORD_HISTORY=1 keeps them for the replay tests.
    const runs = [];
    for await (const w of stack.env.client.workflow.list({ query: `WorkflowType = 'monthlyBilling'` }))
      runs.push(w);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const [name, handle] of [
      ['monthly-billing-v1', stack.env.client.workflow.getHandle(runs[0].workflowId, runs[0].runId)],
      ['allowance-reset-v1', stack.env.client.workflow.getHandle(`allowance-reset:${org().id}:2026-11`)],
    ] as const) {
      const history = await handle.fetchHistory();
      await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
      if (process.env.RECORD_HISTORY) {
        const file = path.join(__dirname, `../replay/histories/${name}.json`);
        writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
      }
    }
  });

  it('credits an exemption of an already invoiced session on the next invoice', async () => {
    const invoiced = (await as('owner')('GET', `/organizations/${org().id}/invoices?period=2026-10`)).body
      .data[0];
    const sessionId = (await as('owner')('GET', `/invoices/${invoiced.id}/lines`)).body.data[0].session_id;
    const exm = await as('admin')('POST', `/sessions/${sessionId}/exemptions`, {
      reason: 'Billed twice by mistake',
    });
    await as('billing')('POST', `/exemptions/${exm.body.id}/approve`, {});
    await stack.env.client.workflow.getHandle(`exemption:${exm.body.id}`).result();
    const exemption = (await as('owner')('GET', `/exemptions/${exm.body.id}`)).body;
    expect(exemption).toMatchObject({ status: 'approved', reversal: 'invoice_credit' });
    // The October invoice stays as issued; November's carries the credit.
    expect((await as('owner')('GET', `/invoices/${invoiced.id}`)).body.credits).toEqual([]);
    const period = periodOf(org().timeZone, new Date());
    const close = await as('billing')('POST', `/organizations/${org().id}/invoices/close`, {
      period,
      now: true,
    });
    const next = await finished<{ invoiceId: string }>(close.body.workflow_id);
    const credits = (await as('owner')('GET', `/invoices/${next.invoiceId}`)).body.credits;
    expect(credits.map((c: { credit_note_id: string }) => c.credit_note_id)).toEqual([
      exemption.credit_note.id,
    ]);
    expect(
      credits.reduce((sum: number, c: { amount_incl_vat: string }) => sum + Number(c.amount_incl_vat), 0),
    ).toBeCloseTo(-Number(exemption.credit_note.total), 10);
  });

  it('refuses a backfill of the future or backwards, naming the field', async () => {
    const call = (body: unknown) =>
      as('billing')('POST', `/organizations/${org().id}/schedules/monthly-billing/backfill`, body);
    expect((await call({ from: '2026-10', to: '2099-01' })).body.error.param).toBe('to');
    expect((await call({ from: '2026-10', to: '2026-09' })).body.error.param).toBe('to');
    expect((await call({ from: 'Oct', to: '2026-10' })).body.error.param).toBe('from');
    expect(
      (await as('admin')('POST', `/organizations/${org().id}/schedules/monthly-billing/backfill`, {})).status,
    ).toBe(403);
  });
});
