import {
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createWebhookActivities } from '../../activities/webhook-delivery';
import { BILLING_STATUS } from '../search-attributes';
import { deliveriesPending, type WebhookEndpointInput } from './messages';

type WebhookActivities = ReturnType<typeof createWebhookActivities>;

// A round sends over HTTP with a timeout per attempt; the heartbeat tells a stuck round from a long one.
const { deliverWebhooks } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

const DEFAULT_IDLE_MS = 10 * 60_000;
const ROUNDS_PER_RUN = 500;

/**
 * `webhook-endpoint:<we_id>`: delivers the endpoint's events, retrying failed ones when their backoff is
 * over. The deliveries and their attempts live in PostgreSQL; this workflow decides when to send, so
 * retries survive any process dying. It completes after a quiet spell; the next event starts it again.
 */
export async function webhookEndpoint(input: WebhookEndpointInput): Promise<string> {
  let woken = true;
  setHandler(deliveriesPending, () => {
    woken = true;
  });
  const idleMs = input.idleMs ?? DEFAULT_IDLE_MS;
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    woken = false;
    const result = await deliverWebhooks(input.endpointId);
    if (result.status === 'more') continue;
    if (result.status === 'disabled') {
      upsertSearchAttributes([{ key: BILLING_STATUS, value: 'disabled' }]);
      return 'disabled';
    }
    const waitMs = result.nextDueAt ? Math.max(0, Date.parse(result.nextDueAt) - Date.now()) : idleMs;
    upsertSearchAttributes([{ key: BILLING_STATUS, value: result.nextDueAt ? 'retrying' : 'idle' }]);
    const signalled = await condition(() => woken, waitMs);
    if (!signalled && !result.nextDueAt) return 'idle';
    if (workflowInfo().continueAsNewSuggested) break;
  }
  return continueAsNew<typeof webhookEndpoint>(input);
}
