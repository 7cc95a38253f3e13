import { defineSignal } from '@temporalio/workflow';

// Message types are versioned by name: a breaking change adds a new type instead of changing this one.

export interface WebhookEndpointInput {
  endpointId: string;
  organizationId: string;
  /** How long the workflow waits with nothing pending before it completes (a new event starts it again). */
  idleMs?: number;
}

/** New deliveries are waiting (sent by the outbox relay, a replay or a re-enable). */
export const deliveriesPending = defineSignal('deliveriesPending');

export const webhookEndpointWorkflowId = (endpointId: string) => `webhook-endpoint:${endpointId}`;
