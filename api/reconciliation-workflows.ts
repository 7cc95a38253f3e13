import { Client, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import {
  reconciliationPeriod,
  ReconciliationResult,
  reconciliationWorkflowId,
} from '../workflows/reconciliation/messages';
import { BILLING_KIND, BILLING_PERIOD, ORGANIZATION_ID } from '../workflows/search-attributes';

/** Runs reconciliations for the API: a range of local dates, compared at once, answered with the report. */
export interface ReconciliationWorkflows {
  /** Reconciles [from, to) and resolves with the result; joins a run of the same range that is under way. */
  run(org: { id: string }, from: string, to: string): Promise<ReconciliationResult>;
}

export function createReconciliationWorkflows(
  client: Client,
  opts: { taskQueue: string; lagSeconds: number },
): ReconciliationWorkflows {
  return {
    async run(org, from, to) {
      const workflowId = reconciliationWorkflowId(org.id, from, to);
      try {
        const handle = await client.workflow.start('reconciliation', {
          taskQueue: opts.taskQueue,
          workflowId,
          // Each run compares again and replaces the range's report.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          args: [{ organizationId: org.id, from, to, lagSeconds: opts.lagSeconds }],
          typedSearchAttributes: [
            { key: ORGANIZATION_ID, value: org.id },
            { key: BILLING_KIND, value: 'reconciliation' },
            { key: BILLING_PERIOD, value: reconciliationPeriod(from, to) },
          ],
        });
        return await handle.result();
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        return client.workflow.getHandle(workflowId).result();
      }
    },
  };
}
