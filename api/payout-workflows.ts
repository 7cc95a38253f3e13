import { Client, WorkflowIdReusePolicy, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { PayoutResult, payoutWorkflowId } from '../workflows/payout/messages';
import { BILLING_KIND, BILLING_PERIOD, ORGANIZATION_ID } from '../workflows/search-attributes';

/** Starts payout workflows (`payout:<party_id>:<yyyy-mm>`) for the API. */
export interface PayoutWorkflows {
  /** Starts the party's payout of the month unless one runs already; resolves with the workflow id. */
  start(org: { id: string }, partyId: string, period: string): Promise<string>;
  result(workflowId: string): Promise<PayoutResult>;
}

export function createPayoutWorkflows(client: Client, opts: { taskQueue: string }): PayoutWorkflows {
  return {
    async start(org, partyId, period) {
      const workflowId = payoutWorkflowId(partyId, period);
      try {
        await client.workflow.start('payout', {
          taskQueue: opts.taskQueue,
          workflowId,
          // A payout that ran before may run again: it answers the stored statement and payout, and retries a
          // refused transfer. One that is running is joined.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          args: [{ organizationId: org.id, partyId, period }],
          typedSearchAttributes: [
            { key: ORGANIZATION_ID, value: org.id },
            { key: BILLING_KIND, value: 'payout' },
            { key: BILLING_PERIOD, value: period },
          ],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return workflowId;
    },
    result: (workflowId) => client.workflow.getHandle(workflowId).result(),
  };
}
