import {
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { MonthlyRunActivities } from '../../activities/monthly-run';
import { allowanceReset, allowanceResetWorkflowId } from '../allowance-reset/workflow';
import { invoiceClose } from '../invoice-close/workflow';
import { invoiceCloseWorkflowId } from '../invoice-close/messages';
import { BILLING_KIND, BILLING_PERIOD, ORGANIZATION_ID } from '../search-attributes';

const { planMonthlyRun } = proxyActivities<MonthlyRunActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface MonthlyBillingInput {
  organizationId: string;
}

/**
 * Started by the organization's schedule at the start of each month: opens the month's allowances and starts
 * closing last month's invoice, each under its business id. The periods come from the schedule's nominal
 * time, so a catch-up after an outage or a backfill bills the month it stands for, not the current one.
 * Either child may exist already (a backfill through the API): it then runs again and changes nothing.
 */
export async function monthlyBilling(
  input: MonthlyBillingInput,
): Promise<{ closingPeriod: string; openingPeriod: string }> {
  const info = workflowInfo();
  const scheduled = info.searchAttributes?.TemporalScheduledStartTime?.[0] as Date | string | undefined;
  const nominalTime = new Date(scheduled ?? info.startTime).toISOString();
  const plan = await planMonthlyRun({ organizationId: input.organizationId, nominalTime });
  const common = {
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  };
  const attributes = (kind: string, period: string) => [
    { key: ORGANIZATION_ID, value: input.organizationId },
    { key: BILLING_KIND, value: kind },
    { key: BILLING_PERIOD, value: period },
  ];
  await startOnce(() =>
    startChild(allowanceReset, {
      ...common,
      workflowId: allowanceResetWorkflowId(input.organizationId, plan.openingPeriod),
      args: [{ organizationId: input.organizationId, period: plan.openingPeriod }],
      typedSearchAttributes: attributes('allowance-reset', plan.openingPeriod),
    }),
  );
  await startOnce(() =>
    startChild(invoiceClose, {
      ...common,
      workflowId: invoiceCloseWorkflowId(input.organizationId, plan.closingPeriod),
      args: [
        {
          organizationId: input.organizationId,
          period: plan.closingPeriod,
          notBefore: plan.invoiceNotBefore,
        },
      ],
      typedSearchAttributes: attributes('invoice-close', plan.closingPeriod),
    }),
  );
  return { closingPeriod: plan.closingPeriod, openingPeriod: plan.openingPeriod };
}

/** A child that is running already (started by a backfill) is left to finish. */
async function startOnce(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (err) {
    if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
  }
}
