import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { BILLING_KIND, BILLING_STATUS, ORGANIZATION_ID } from '../workflows/search-attributes';
import {
  decideExemptionUpdate,
  DecisionResultV1,
  DecisionV1,
  DECISION_REFUSALS,
  ExemptionInput,
} from '../workflows/exemption/messages';
import { exemptionWorkflowId } from '../db/repositories/exemptions';

type Refusal = (typeof DECISION_REFUSALS)[keyof typeof DECISION_REFUSALS] | 'Closed';

export type DecisionOutcome =
  { ok: true; result: DecisionResultV1 } | { ok: false; refusal: Refusal; message: string };

/** The exemption workflows as the API drives them. */
export interface ExemptionWorkflows {
  start(input: Omit<ExemptionInput, 'remindAfterMs' | 'expireAfterMs'>): Promise<void>;
  decide(exemptionId: string, decision: DecisionV1): Promise<DecisionOutcome>;
}

const REFUSALS = new Set<string>(Object.values(DECISION_REFUSALS));

export function createExemptionWorkflows(
  client: Client,
  opts: { taskQueue: string; remindAfterMs: number; expireAfterMs: number },
): ExemptionWorkflows {
  return {
    async start(input) {
      await client.workflow.start('exemption', {
        taskQueue: opts.taskQueue,
        workflowId: exemptionWorkflowId(input.exemptionId),
        args: [{ ...input, remindAfterMs: opts.remindAfterMs, expireAfterMs: opts.expireAfterMs }],
        typedSearchAttributes: [
          { key: ORGANIZATION_ID, value: input.organizationId },
          { key: BILLING_KIND, value: 'exemption' },
          { key: BILLING_STATUS, value: 'pending' },
        ],
      });
    },
    async decide(exemptionId, decision) {
      try {
        const handle = client.workflow.getHandle(exemptionWorkflowId(exemptionId));
        return { ok: true, result: await handle.executeUpdate(decideExemptionUpdate, { args: [decision] }) };
      } catch (err) {
        const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
        if (cause instanceof ApplicationFailure && cause.type && REFUSALS.has(cause.type)) {
          return { ok: false, refusal: cause.type as Refusal, message: cause.message };
        }
        // The workflow has ended (decided long ago, or expired): no decision can reach it.
        if (err instanceof WorkflowNotFoundError) {
          return { ok: false, refusal: 'Closed', message: 'the exemption is no longer open' };
        }
        throw err;
      }
    },
  };
}
