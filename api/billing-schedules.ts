import {
  Client,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  ScheduleNotFoundError,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Knex } from 'knex';
import { periodBounds } from '../pricing/calendar-months';
import { DEFAULT_RECONCILIATION_LAG_SECONDS } from '../workflows/reconciliation/messages';
import { BILLING_KIND, ORGANIZATION_ID } from '../workflows/search-attributes';

// One Temporal Schedule per organization runs its month: at 00:05 on the 1st in the organization's time zone
// it starts `monthly-billing`, which opens the month's allowances and closes last month's invoice. It is
// visible (and can be paused or triggered) in the Temporal UI under Schedules.

export const billingScheduleId = (organizationId: string) => `monthly-billing:${organizationId}`;

export interface BillingScheduleOptions {
  taskQueue: string;
  /** Runs missed while Temporal was unreachable still start within this window; later ones are skipped. */
  catchupWindow?: Duration;
  /** The daily reconciliation's settlement lag (default 2 hours). */
  reconciliationLagSeconds?: number;
}

/** Creates the organization's schedule, or brings an existing one to the organization's time zone. */
export async function ensureBillingSchedule(
  client: Client,
  org: { id: string; timeZone: string },
  opts: BillingScheduleOptions,
): Promise<void> {
  const spec = { calendars: [{ dayOfMonth: 1, hour: 0, minute: 5 }], timezone: org.timeZone };
  try {
    await client.schedule.create({
      scheduleId: billingScheduleId(org.id),
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'monthlyBilling',
        workflowId: `monthly-billing:${org.id}`,
        taskQueue: opts.taskQueue,
        args: [{ organizationId: org.id }],
        typedSearchAttributes: [
          { key: ORGANIZATION_ID, value: org.id },
          { key: BILLING_KIND, value: 'monthly-billing' },
        ],
      },
      policies: {
        // A backfill of several months runs them one after the other.
        overlap: ScheduleOverlapPolicy.BUFFER_ALL,
        catchupWindow: opts.catchupWindow ?? '7 days',
      },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = client.schedule.getHandle(billingScheduleId(org.id));
    const current = await handle.describe();
    if (current.spec.timezone !== org.timeZone) {
      await handle.update((previous) => ({ ...previous, spec: { ...previous.spec, ...spec } }));
    }
  }
}

export const reconciliationScheduleId = (organizationId: string) => `daily-reconciliation:${organizationId}`;

/**
 * The organization's daily reconciliation: at 03:00 in its time zone, `dailyReconciliation` compares the day
 * before with the payment provider's records. Created like the monthly schedule, and brought along when the
 * time zone or the lag changes.
 */
export async function ensureReconciliationSchedule(
  client: Client,
  org: { id: string; timeZone: string },
  opts: BillingScheduleOptions,
): Promise<void> {
  const spec = { calendars: [{ hour: 3, minute: 0 }], timezone: org.timeZone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'dailyReconciliation',
    workflowId: reconciliationScheduleId(org.id),
    taskQueue: opts.taskQueue,
    args: [
      {
        organizationId: org.id,
        lagSeconds: opts.reconciliationLagSeconds ?? DEFAULT_RECONCILIATION_LAG_SECONDS,
      },
    ],
    typedSearchAttributes: [
      { key: ORGANIZATION_ID, value: org.id },
      { key: BILLING_KIND, value: 'daily-reconciliation' },
    ],
  };
  try {
    await client.schedule.create({
      scheduleId: reconciliationScheduleId(org.id),
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ALL, catchupWindow: opts.catchupWindow ?? '7 days' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = client.schedule.getHandle(reconciliationScheduleId(org.id));
    const current = await handle.describe();
    const currentLag = (current.action as { args?: { lagSeconds?: number }[] }).args?.[0]?.lagSeconds;
    if (current.spec.timezone !== org.timeZone || currentLag !== action.args[0].lagSeconds) {
      await handle.update((previous) => ({ ...previous, spec: { ...previous.spec, ...spec }, action }));
    }
  }
}

export const HOLD_SWEEP_SCHEDULE_ID = 'hold-sweep';

/** One schedule for the platform: every 15 minutes, holds that outlived their session are released. */
export async function ensureHoldSweepSchedule(client: Client, opts: { taskQueue: string }): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: HOLD_SWEEP_SCHEDULE_ID,
      spec: { intervals: [{ every: '15 minutes' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'holdSweep',
        workflowId: HOLD_SWEEP_SCHEDULE_ID,
        taskQueue: opts.taskQueue,
        args: [{}],
        typedSearchAttributes: [{ key: BILLING_KIND, value: 'hold-sweep' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '15 minutes' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}

/** Every organization's schedule; run at start-up, so a new deployment or a new organization gets one. */
export async function ensureAllBillingSchedules(
  client: Client,
  db: Knex,
  opts: BillingScheduleOptions,
): Promise<number> {
  const orgs: { id: string; time_zone: string }[] = await db('organizations').select('id', 'time_zone');
  for (const org of orgs) {
    await ensureBillingSchedule(client, { id: org.id, timeZone: org.time_zone }, opts);
    await ensureReconciliationSchedule(client, { id: org.id, timeZone: org.time_zone }, opts);
  }
  await ensureHoldSweepSchedule(client, opts);
  return orgs.length;
}

/**
 * Runs the schedule for the months from..to (yyyy-mm, inclusive) as if each 1st had come again; answers how
 * many runs that is. Each run closes the month before its own, so from..to are the months that open.
 */
export async function backfillBillingSchedule(
  client: Client,
  org: { id: string; timeZone: string },
  from: string,
  to: string,
): Promise<number> {
  const start = periodBounds(org.timeZone, from).start;
  // Past the 00:05 run of the last month.
  const end = new Date(periodBounds(org.timeZone, to).start.getTime() + 10 * 60_000);
  try {
    await client.schedule
      .getHandle(billingScheduleId(org.id))
      .backfill([{ start, end, overlap: ScheduleOverlapPolicy.BUFFER_ALL }]);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new Error(`organization ${org.id} has no billing schedule`, { cause: err });
    }
    throw err;
  }
  const [fy, fm] = from.split('-').map(Number);
  const [ty, tm] = to.split('-').map(Number);
  return (ty - fy) * 12 + (tm - fm) + 1;
}
