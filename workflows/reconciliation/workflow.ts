import {
  executeChild,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { ReconciliationActivities } from '../../activities/reconciliation';
import { BILLING_KIND, BILLING_PERIOD, BILLING_STATUS, ORGANIZATION_ID } from '../search-attributes';
import {
  DailyReconciliationInput,
  reconciliationPeriod,
  ReconciliationInput,
  ReconciliationResult,
  reconciliationWorkflowId,
} from './messages';

const NON_RETRYABLE = ['ProviderRecordsMissing', 'OrganizationMissing'];

const { planDailyReconciliation } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
});

// Pages through months of provider records: the heartbeat, not the overall timeout, catches a stuck attempt.
const { reconcileRange } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '5 seconds',
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/**
 * `reconciliation:<org_id>:<from>:<to>`: compares the organization's captures, refunds and disputes over the
 * local dates [from, to) with the payment provider's records and stores the report (a rerun replaces it).
 */
export async function reconciliation(input: ReconciliationInput): Promise<ReconciliationResult> {
  const wait = input.notBefore ? Date.parse(input.notBefore) - Date.now() : 0;
  if (wait > 0) {
    upsertSearchAttributes([{ key: BILLING_STATUS, value: 'waiting' }]);
    await sleep(wait);
  }
  upsertSearchAttributes([{ key: BILLING_STATUS, value: 'reconciling' }]);
  const result = await reconcileRange({
    organizationId: input.organizationId,
    from: input.from,
    to: input.to,
    lagSeconds: input.lagSeconds,
    workflowId: workflowInfo().workflowId,
  });
  upsertSearchAttributes([{ key: BILLING_STATUS, value: result.status }]);
  return result;
}

/**
 * Started by the organization's daily schedule: reconciles the local day before the run's nominal time (not the
 * wall clock, so a catch-up reconciles the day it stands for), as a child under the range's business id.
 */
export async function dailyReconciliation(
  input: DailyReconciliationInput,
): Promise<ReconciliationResult | { from: string; to: string; joined: true }> {
  const info = workflowInfo();
  const scheduled = info.searchAttributes?.TemporalScheduledStartTime?.[0] as Date | string | undefined;
  const nominalTime = new Date(scheduled ?? info.startTime).toISOString();
  const plan = await planDailyReconciliation({ ...input, nominalTime });
  try {
    return await executeChild(reconciliation, {
      workflowId: reconciliationWorkflowId(input.organizationId, plan.from, plan.to),
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ ...input, from: plan.from, to: plan.to, notBefore: plan.notBefore }],
      typedSearchAttributes: [
        { key: ORGANIZATION_ID, value: input.organizationId },
        { key: BILLING_KIND, value: 'reconciliation' },
        { key: BILLING_PERIOD, value: reconciliationPeriod(plan.from, plan.to) },
      ],
    });
  } catch (err) {
    // The same day reconciling already (started through the API): that run writes the report.
    if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
    return { from: plan.from, to: plan.to, joined: true };
  }
}
