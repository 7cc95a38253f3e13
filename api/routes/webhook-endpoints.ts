import type { Router } from 'express';
import { eventsQuery, getEvent } from '../../db/repositories/events';
import {
  getDelivery,
  listDeliveries,
  replayEvents,
  resumeDeliveries,
  type DeliveryRow,
  type DeliveryStatus,
} from '../../db/repositories/webhookDeliveries';
import {
  createEndpoint,
  getEndpoint,
  listEndpoints,
  liveSecrets,
  rotateSecret,
  updateEndpoint,
  type WebhookEndpoint,
} from '../../db/repositories/webhookEndpoints';
import { EVENT_TYPES, isEventType } from '../../events/types';
import { newId } from '../../db/ids';
import { sendEvent } from '../../webhooks/sender';
import { ACCOUNTING } from '../auth';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, missingParam, resourceMissing } from '../errors';
import { act, read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import type { WebhookControl } from '../webhook-control';
import {
  Body,
  optionalEnum,
  optionalInteger,
  optionalString,
  optionalTimestamp,
  readBody,
} from '../validation';

// Accounting webhook endpoints of an organization (docs/webhooks.md). Owners, admins and billing delegates
// manage them; the signing secret is answered once, at creation or rotation.

const MAX_ENDPOINTS = 16;
const MAX_REPLAY = 10_000;
const DAY_SECONDS = 24 * 3600;

const endpointJson = (e: WebhookEndpoint) => ({
  object: 'webhook_endpoint',
  id: e.id,
  url: e.url,
  description: e.description,
  enabled_events: e.enabledEvents,
  status: e.status,
  disabled_reason: e.disabledReason,
  disabled_at: iso(e.disabledAt),
  failing_since: iso(e.failingSince),
  created_at: iso(e.createdAt),
  updated_at: iso(e.updatedAt),
});

const deliveryJson = (d: DeliveryRow & { event_type: string }) => ({
  object: 'webhook_delivery',
  id: d.id,
  endpoint_id: d.endpoint_id,
  event_id: d.event_id,
  event_type: d.event_type,
  object_id: d.object_id,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.status === 'pending' ? iso(new Date(d.next_attempt_at)) : null,
  deadline_at: iso(new Date(d.deadline_at)),
  delivered_at: d.delivered_at && iso(new Date(d.delivered_at)),
  replay: d.replay,
  created_at: iso(new Date(d.created_at)),
});

function readUrl(body: Body, required: boolean): string | undefined {
  const raw = optionalString(body, 'url', { max: 2048 });
  if (raw === undefined) {
    if (required) throw missingParam('url');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidParam('url', 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidParam('url', 'must be an absolute http or https URL');
  }
  if (url.username || url.password) throw invalidParam('url', 'must not carry credentials');
  return url.toString();
}

function readEnabledEvents(body: Body, required: boolean): string[] | undefined {
  const raw = body.enabled_events;
  if (raw === undefined || raw === null) {
    if (required) throw missingParam('enabled_events');
    return undefined;
  }
  const message = `must be a non-empty list of event types (${EVENT_TYPES.join(', ')}) or ["*"]`;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > EVENT_TYPES.length) {
    throw invalidParam('enabled_events', message);
  }
  raw.forEach((t, i) => {
    if (t !== '*' && !isEventType(t))
      throw invalidParam(`enabled_events[${i}]`, `is not an event type; ${message}`);
  });
  const types = [...new Set(raw as string[])];
  if (types.includes('*') && types.length > 1) throw invalidParam('enabled_events', '"*" stands alone');
  return types;
}

function endpointOf(deps: ResolvedDeps): WebhookControl {
  if (!deps.webhooks) {
    throw new ApiError(503, 'api_error', 'webhooks_unavailable', 'Webhook delivery is not configured here.');
  }
  return deps.webhooks;
}

async function loadEndpoint(ctx: { db: ResolvedDeps['db']; org: { id: string } }, id: string) {
  const endpoint = await getEndpoint(ctx.db, ctx.org.id, id);
  if (!endpoint) throw resourceMissing('webhook_endpoint', id);
  return endpoint;
}

export function registerWebhookEndpointRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/webhook-endpoints',
    write(
      deps,
      async ({ db, org, body: raw }) => {
        const body = readBody(raw, ['url', 'enabled_events', 'description']);
        const url = readUrl(body, true)!;
        const enabledEvents = readEnabledEvents(body, true)!;
        const description = optionalString(body, 'description', { max: 500, trim: true }) ?? null;
        const { count } = (await db('webhook_endpoints')
          .where({ organization_id: org.id })
          .count('* as count')
          .first()) as {
          count: string;
        };
        if (Number(count) >= MAX_ENDPOINTS) {
          throw new ApiError(
            409,
            'invalid_request_error',
            'endpoint_limit',
            `An organization has at most ${MAX_ENDPOINTS} webhook endpoints.`,
          );
        }
        const { endpoint, secret } = await createEndpoint(db, {
          organizationId: org.id,
          url,
          description,
          enabledEvents,
        });
        return { status: 201, body: { ...endpointJson(endpoint), secret } };
      },
      ACCOUNTING,
    ),
  );

  router.get(
    '/webhook-endpoints',
    read(deps, async ({ db, org, query }) => {
      const page = await listEndpoints(db, org.id, parsePage(query));
      return { status: 200, body: listEnvelope(page, endpointJson, (e) => e.id) };
    }),
  );

  router.get(
    '/webhook-endpoints/:id',
    read(deps, async (ctx) => ({ status: 200, body: endpointJson(await loadEndpoint(ctx, ctx.params.id)) })),
  );

  // Re-enabling resumes the deliveries that waited, so the workflow is woken after the change committed.
  router.patch(
    '/webhook-endpoints/:id',
    act(
      deps,
      async (ctx) => {
        const body = readBody(ctx.body, ['url', 'enabled_events', 'description', 'status']);
        const url = readUrl(body, false);
        const enabledEvents = readEnabledEvents(body, false);
        const description = optionalString(body, 'description', { max: 500, trim: true });
        const status = optionalEnum(body, 'status', ['enabled', 'disabled'] as const);
        const control = status === 'enabled' ? endpointOf(deps) : undefined;
        const before = await loadEndpoint(ctx, ctx.params.id);
        const updated = await ctx.db.transaction(async (trx) => {
          const after = await updateEndpoint(trx, before.id, { url, enabledEvents, description, status });
          if (control && before.status === 'disabled') await resumeDeliveries(trx, before.id, control.retry);
          return after;
        });
        if (control) await control.wake(updated);
        return { status: 200, body: endpointJson(updated) };
      },
      ACCOUNTING,
    ),
  );

  router.post(
    '/webhook-endpoints/:id/rotate-secret',
    write(
      deps,
      async ({ db, org, principal, params, body: raw }) => {
        const body = readBody(raw ?? {}, ['overlap_seconds']);
        const overlap = optionalInteger(body, 'overlap_seconds', 0, 7 * DAY_SECONDS) ?? DAY_SECONDS;
        const endpoint = await loadEndpoint({ db, org }, params.id);
        const rotated = await rotateSecret(db, endpoint, overlap, { type: 'member', id: principal.memberId });
        return {
          status: 200,
          body: {
            ...endpointJson(endpoint),
            secret: rotated.secret,
            previous_secrets_expire_at: iso(rotated.previousExpiresAt),
          },
        };
      },
      ACCOUNTING,
    ),
  );

  // A signed test event, sent now and answered with what the receiver said; nothing is stored or retried.
  router.post(
    '/webhook-endpoints/:id/ping',
    act(
      deps,
      async (ctx) => {
        readBody(ctx.body ?? {}, []);
        const control = endpointOf(deps);
        const endpoint = await loadEndpoint(ctx, ctx.params.id);
        const event = {
          id: newId('evt'),
          object: 'event',
          type: 'webhook_endpoint.ping',
          version: 1,
          created: new Date().toISOString(),
          organization_id: ctx.org.id,
          data: { object_type: 'webhook_endpoint', object_id: endpoint.id, object: endpointJson(endpoint) },
        };
        const sent = await sendEvent(
          endpoint.url,
          event,
          await liveSecrets(ctx.db, endpoint.id),
          control.timeoutMs,
        );
        return {
          status: 200,
          body: {
            object: 'webhook_ping',
            event_id: event.id,
            succeeded: sent.succeeded,
            response_code: sent.responseCode,
            latency_ms: sent.latencyMs,
            error: sent.error,
          },
        };
      },
      ACCOUNTING,
    ),
  );

  router.post(
    '/webhook-endpoints/:id/replays',
    act(
      deps,
      async (ctx) => {
        const body = readBody(ctx.body, ['event_id', 'created_from', 'created_to']);
        const control = endpointOf(deps);
        const eventId = optionalString(body, 'event_id', { max: 64 });
        const from = optionalTimestamp(body, 'created_from');
        const to = optionalTimestamp(body, 'created_to');
        if (eventId !== undefined && (from || to)) {
          throw invalidParam('event_id', 'give either event_id or created_from and created_to, not both');
        }
        if (eventId === undefined && (!from || !to)) {
          throw missingParam(from ? 'created_to' : 'created_from');
        }
        if (from && to && from >= to) throw invalidParam('created_to', 'must be after created_from');
        const endpoint = await loadEndpoint(ctx, ctx.params.id);
        if (endpoint.status === 'disabled') {
          throw new ApiError(
            409,
            'invalid_request_error',
            'endpoint_disabled',
            'Enable the endpoint before replaying events to it.',
          );
        }
        let events;
        if (eventId !== undefined) {
          const event = await getEvent(ctx.db, ctx.org.id, eventId);
          if (!event) throw resourceMissing('event', eventId, 'event_id');
          events = [event];
        } else {
          events = await eventsQuery(ctx.db, ctx.org.id, { createdFrom: from, createdTo: to })
            .orderBy('seq')
            .limit(MAX_REPLAY + 1)
            .select('id', 'seq', 'type', 'object_id');
          if (events.length > MAX_REPLAY) {
            throw invalidParam(
              'created_from',
              `the range holds more than ${MAX_REPLAY} events; replay a shorter one`,
            );
          }
        }
        const count = await ctx.db.transaction((trx) => replayEvents(trx, endpoint, events, control.retry));
        if (eventId !== undefined && count === 0) {
          throw invalidParam('event_id', `the endpoint is not subscribed to ${events[0].type}`);
        }
        if (count > 0) await control.wake(endpoint);
        return {
          status: 202,
          body: { object: 'webhook_replay', endpoint_id: endpoint.id, deliveries: count },
        };
      },
      ACCOUNTING,
    ),
  );

  router.get(
    '/webhook-endpoints/:id/deliveries',
    read(deps, async (ctx) => {
      const endpoint = await loadEndpoint(ctx, ctx.params.id);
      const status = queryString(ctx.query, 'status');
      if (status !== undefined && !['pending', 'delivered', 'failed'].includes(status)) {
        throw invalidParam('status', 'must be pending, delivered or failed');
      }
      const page = await listDeliveries(
        ctx.db,
        endpoint.id,
        { status: status as DeliveryStatus | undefined, eventId: queryString(ctx.query, 'event_id') },
        parsePage(ctx.query),
      );
      return { status: 200, body: listEnvelope(page, deliveryJson, (d) => d.id) };
    }),
  );

  router.get(
    '/webhook-endpoints/:id/deliveries/:deliveryId',
    read(deps, async (ctx) => {
      const endpoint = await loadEndpoint(ctx, ctx.params.id);
      const found = await getDelivery(ctx.db, endpoint.id, ctx.params.deliveryId);
      if (!found) throw resourceMissing('webhook_delivery', ctx.params.deliveryId);
      return {
        status: 200,
        body: {
          ...deliveryJson(found.delivery),
          attempt_log: found.attempts.map((a) => ({
            attempted_at: iso(new Date(a.attempted_at)),
            outcome: a.outcome,
            response_code: a.response_code,
            latency_ms: a.latency_ms,
            error: a.error,
          })),
        },
      };
    }),
  );
}
