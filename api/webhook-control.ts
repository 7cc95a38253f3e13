import type { Client } from '@temporalio/client';
import type { RetryPolicy } from '../db/repositories/webhookDeliveries';
import { wakeEndpoint, type WakeOptions } from '../webhooks/wake';

/** What the webhook routes need beyond the database: waking an endpoint's delivery workflow. */
export interface WebhookControl {
  retry: RetryPolicy;
  timeoutMs: number;
  wake(endpoint: { id: string; organizationId: string }): Promise<void>;
}

export function createWebhookControl(
  client: Client,
  opts: WakeOptions & { retry: RetryPolicy; timeoutMs: number },
): WebhookControl {
  return {
    retry: opts.retry,
    timeoutMs: opts.timeoutMs,
    wake: (endpoint) => wakeEndpoint(client, endpoint, opts),
  };
}
