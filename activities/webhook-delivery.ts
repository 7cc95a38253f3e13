import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import {
  disableFailingEndpoint,
  findEndpoint,
  liveSecrets,
  noteEndpointHealth,
  ownerEmails,
} from '../db/repositories/webhookEndpoints';
import {
  afterAttempt,
  type AttemptRecord,
  dueDeliveries,
  type DueDelivery,
  nextDueAt,
  recordAttempts,
  type RetryPolicy,
} from '../db/repositories/webhookDeliveries';
import { type Mailer, sendOnce } from '../notifications/mailer';
import { sendEvent } from '../webhooks/sender';

export interface WebhookDeliveryConfig {
  retry: RetryPolicy;
  /** An endpoint whose every attempt failed for this long is disabled and its owners told. */
  disableAfterMs: number;
  timeoutMs: number;
  /** Objects sent in parallel to one endpoint; one object's events always go one after the other. */
  concurrency: number;
  batchSize: number;
}

export const DEFAULT_WEBHOOK_DELIVERY: WebhookDeliveryConfig = {
  retry: { baseMs: 30_000, maxMs: 6 * 3600_000, windowMs: 3 * 24 * 3600_000 },
  disableAfterMs: 3 * 24 * 3600_000,
  timeoutMs: 10_000,
  concurrency: 16,
  batchSize: 500,
};

// Attempts are written in batches: one transaction per batch instead of one per delivery.
const RECORD_BATCH = 100;

export interface DeliveryRound {
  /** `more`: a full batch went out, call again at once. `disabled`: nothing to do until re-enabled. */
  status: 'more' | 'waiting' | 'disabled';
  delivered: number;
  failed: number;
  /** When the next pending delivery is due; null when none is pending. */
  nextDueAt: string | null;
}

export interface WebhookActivityDeps {
  db: Knex;
  mailer: Mailer;
  webhooks?: Partial<WebhookDeliveryConfig>;
}

async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}

export function createWebhookActivities({ db, mailer, webhooks }: WebhookActivityDeps) {
  // Read at each round, so a test can shorten the timings of a running worker.
  const current = () => ({ ...DEFAULT_WEBHOOK_DELIVERY, ...webhooks });

  async function notifyOwners(
    endpointId: string,
    organizationId: string,
    url: string,
    since: Date,
    reason: string,
  ) {
    const to = await ownerEmails(db, organizationId);
    if (to.length === 0) return;
    await sendOnce(db, mailer, {
      key: `webhook-endpoint:${endpointId}:disabled:${since.toISOString()}`,
      organizationId,
      to,
      subject: `Webhook endpoint ${url} has been disabled`,
      text:
        `Deliveries to ${url} (${endpointId}) kept failing: ${reason}.\n` +
        `The endpoint is disabled; events are kept. Fix the receiver, then enable it again with ` +
        `PATCH /api/v1/billing/webhook-endpoints/${endpointId} {"status":"enabled"}; waiting deliveries resume, ` +
        `and failed ones can be sent again with POST /api/v1/billing/webhook-endpoints/${endpointId}/replays.`,
    });
  }

  return {
    /** One round for one endpoint: every due delivery, each object's events in order. */
    async deliverWebhooks(endpointId: string): Promise<DeliveryRound> {
      const config = current();
      const endpoint = await findEndpoint(db, endpointId);
      if (!endpoint || endpoint.status === 'disabled') {
        return { status: 'disabled', delivered: 0, failed: 0, nextDueAt: null };
      }
      const secrets = await liveSecrets(db, endpointId);
      const { groups, full } = await dueDeliveries(db, endpointId, config.batchSize);
      let delivered = 0;
      let failed = 0;
      let lastError = '';
      let unrecorded: AttemptRecord[] = [];
      const flush = async () => {
        const batch = unrecorded;
        unrecorded = [];
        await recordAttempts(db, batch);
        Context.current().heartbeat();
      };
      await inParallel(groups, config.concurrency, async (group: DueDelivery[]) => {
        for (const { delivery, event } of group) {
          const sent = await sendEvent(endpoint.url, event, secrets, config.timeoutMs);
          const record = afterAttempt(delivery, sent, config.retry);
          unrecorded.push(record);
          if (unrecorded.length >= RECORD_BATCH) await flush();
          if (sent.succeeded) delivered++;
          else {
            failed++;
            lastError = sent.error ?? 'failed';
          }
          // A delivery that will be retried holds back the object's later events.
          if (record.status === 'pending') break;
        }
      });
      await flush();
      if (delivered > 0) await noteEndpointHealth(db, endpointId, true);
      else if (failed > 0) {
        const since = await noteEndpointHealth(db, endpointId, false);
        if (since && Date.now() - since.getTime() >= config.disableAfterMs) {
          const reason = `every attempt since ${since.toISOString()} failed (last: ${lastError})`;
          if (await disableFailingEndpoint(db, endpointId, reason)) {
            await notifyOwners(endpointId, endpoint.organizationId, endpoint.url, since, reason);
          }
          return { status: 'disabled', delivered, failed, nextDueAt: null };
        }
      }
      const due = await nextDueAt(db, endpointId);
      return { status: full ? 'more' : 'waiting', delivered, failed, nextDueAt: due && due.toISOString() };
    },
  };
}
