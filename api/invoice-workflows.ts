import { Client, WorkflowIdReusePolicy, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { periodBounds } from '../pricing/calendar-months';
import { invoiceCloseWorkflowId, InvoiceCloseResult } from '../workflows/invoice-close/messages';
import { BILLING_KIND, BILLING_PERIOD, ORGANIZATION_ID } from '../workflows/search-attributes';

/** Starts invoice-close workflows: the schedule's own (bin/schedules.ts) and backfills through the API. */
export interface InvoiceWorkflows {
  /**
   * Starts closing the period unless a closing of it runs already; resolves with the workflow id. `now` skips
   * the wait for the period's end and grace time: sessions that end later go on the next invoice.
   */
  close(org: { id: string; timeZone: string }, period: string, opts?: { now?: boolean }): Promise<string>;
  result(workflowId: string): Promise<InvoiceCloseResult>;
}

export function createInvoiceWorkflows(
  client: Client,
  opts: { taskQueue: string; graceMs: number },
): InvoiceWorkflows {
  return {
    async close(org, period, closeOpts = {}) {
      const workflowId = invoiceCloseWorkflowId(org.id, period);
      const notBefore = closeOpts.now
        ? new Date()
        : new Date(periodBounds(org.timeZone, period).end.getTime() + opts.graceMs);
      try {
        await client.workflow.start('invoiceClose', {
          taskQueue: opts.taskQueue,
          workflowId,
          // A closing that ran before may run again (it returns the invoice it issued); one running is joined.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          args: [{ organizationId: org.id, period, notBefore: notBefore.toISOString() }],
          typedSearchAttributes: [
            { key: ORGANIZATION_ID, value: org.id },
            { key: BILLING_KIND, value: 'invoice-close' },
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
