import type { Client } from '@temporalio/client';
import {
  deliveriesPending,
  webhookEndpointWorkflowId,
  type WebhookEndpointInput,
} from '../workflows/webhook-endpoint/messages';
import { BILLING_KIND, ORGANIZATION_ID } from '../workflows/search-attributes';
import type { webhookEndpoint } from '../workflows/webhook-endpoint/workflow';

export interface WakeOptions {
  taskQueue: string;
  /** Passed to a workflow this call starts (tests shorten it). */
  idleMs?: number;
}

/** Tells the endpoint's workflow that deliveries wait, starting it when it is not running. */
export async function wakeEndpoint(
  client: Client,
  endpoint: { id: string; organizationId: string },
  opts: WakeOptions,
): Promise<void> {
  const input: WebhookEndpointInput = {
    endpointId: endpoint.id,
    organizationId: endpoint.organizationId,
    ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
  };
  await client.workflow.signalWithStart<typeof webhookEndpoint, []>('webhookEndpoint', {
    workflowId: webhookEndpointWorkflowId(endpoint.id),
    taskQueue: opts.taskQueue,
    args: [input],
    signal: deliveriesPending,
    signalArgs: [],
    typedSearchAttributes: [
      { key: ORGANIZATION_ID, value: endpoint.organizationId },
      { key: BILLING_KIND, value: 'webhook-endpoint' },
    ],
  });
}
