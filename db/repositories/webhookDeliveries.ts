import type { Knex } from 'knex';
import type { EventEnvelope } from '../../events/types';
import { newId } from '../ids';
import { envelopeOf, type EventRow } from './events';
import { fetchPage, Page, PageRequest } from './pagination';

// One delivery per event and endpoint. A delivery is pending until the receiver answered 2xx (delivered)
// or its deadline passed while it kept failing (failed). Within one endpoint, the events of one object go
// out in event order: an object's next delivery waits until the one before it is delivered or failed.

export interface RetryPolicy {
  /** Wait after the first failed attempt; it doubles with each further one. */
  baseMs: number;
  maxMs: number;
  /** A delivery that has not succeeded this long after its event stops retrying. */
  windowMs: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_seq: string;
  object_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  deadline_at: Date;
  delivered_at: Date | null;
  replay: boolean;
  created_at: Date;
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  attempted_at: Date;
  outcome: 'succeeded' | 'failed';
  response_code: number | null;
  latency_ms: number;
  error: string | null;
}

const matches = (enabled: string[], type: string) => enabled.includes('*') || enabled.includes(type);

/**
 * Moves up to `limit` new events from the outbox into deliveries for the endpoints subscribed to them, and
 * marks them published, in one transaction. Concurrent relays skip each other's rows. Answers the endpoints
 * that got deliveries.
 */
export async function fanOutEvents(
  db: Knex,
  limit: number,
  policy: RetryPolicy,
): Promise<{ events: number; endpoints: { id: string; organizationId: string }[] }> {
  return db.transaction(async (trx) => {
    const events: Pick<EventRow, 'id' | 'seq' | 'organization_id' | 'type' | 'object_id' | 'created_at'>[] =
      await trx('outbox')
        .whereNull('published_at')
        .orderBy('seq')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .select('id', 'seq', 'organization_id', 'type', 'object_id', 'created_at');
    if (events.length === 0) return { events: 0, endpoints: [] };
    const orgs = [...new Set(events.map((e) => e.organization_id))];
    const endpoints: { id: string; organization_id: string; enabled_events: string[] }[] = await trx(
      'webhook_endpoints',
    )
      .whereIn('organization_id', orgs)
      .where({ status: 'enabled' })
      .select('id', 'organization_id', 'enabled_events');
    const rows = events.flatMap((e) =>
      endpoints
        .filter((ep) => ep.organization_id === e.organization_id && matches(ep.enabled_events, e.type))
        .map((ep) => ({
          id: newId('whd'),
          endpoint_id: ep.id,
          event_id: e.id,
          event_seq: e.seq,
          object_id: e.object_id,
          status: 'pending',
          next_attempt_at: trx.fn.now(),
          deadline_at: new Date(new Date(e.created_at).getTime() + policy.windowMs),
        })),
    );
    if (rows.length > 0) await trx.batchInsert('webhook_deliveries', rows, 1000);
    await trx('outbox')
      .whereIn(
        'id',
        events.map((e) => e.id),
      )
      .update({ published_at: trx.fn.now() });
    const woken = new Set(rows.map((r) => r.endpoint_id));
    return {
      events: events.length,
      endpoints: endpoints
        .filter((ep) => woken.has(ep.id))
        .map((ep) => ({ id: ep.id, organizationId: ep.organization_id })),
    };
  });
}

export interface DueDelivery {
  delivery: DeliveryRow;
  event: EventEnvelope;
}

// The first pending delivery of each object: only these may be sent.
const HEADS = `SELECT DISTINCT ON (object_id) object_id, next_attempt_at, event_seq FROM webhook_deliveries
  WHERE endpoint_id = ? AND status = 'pending' ORDER BY object_id, event_seq, id`;

/**
 * The endpoint's pending deliveries in event order, up to `limit`, grouped by object, for the objects whose
 * first pending delivery is due: a later event of an object never overtakes an earlier one.
 */
export async function dueDeliveries(
  db: Knex,
  endpointId: string,
  limit: number,
): Promise<{ groups: DueDelivery[][]; full: boolean }> {
  const rows: (DeliveryRow & { e: EventRow })[] = (
    await db.raw(
      `WITH due AS (
         SELECT object_id FROM (${HEADS}) heads WHERE next_attempt_at <= now() ORDER BY event_seq LIMIT ?
       )
       SELECT d.*, row_to_json(o.*) AS e FROM webhook_deliveries d JOIN outbox o ON o.id = d.event_id
       WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.object_id IN (SELECT object_id FROM due)
       ORDER BY d.event_seq, d.id LIMIT ?`,
      [endpointId, limit, endpointId, limit],
    )
  ).rows;
  const groups = new Map<string, DueDelivery[]>();
  for (const { e, ...delivery } of rows) {
    const event = envelopeOf({ ...e, created_at: new Date(e.created_at) });
    const group = groups.get(delivery.object_id) ?? [];
    group.push({ delivery: { ...delivery, next_attempt_at: new Date(delivery.next_attempt_at) }, event });
    groups.set(delivery.object_id, group);
  }
  return { groups: [...groups.values()], full: rows.length === limit };
}

export interface AttemptOutcome {
  succeeded: boolean;
  responseCode: number | null;
  latencyMs: number;
  error: string | null;
  at: Date;
}

export function backoffMs(attempts: number, policy: RetryPolicy): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
}

export interface AttemptRecord {
  delivery: DeliveryRow;
  outcome: AttemptOutcome;
  status: DeliveryStatus;
  nextAttemptAt: Date;
}

/** Where one attempt leaves its delivery: delivered, retried after the backoff, or failed past its deadline. */
export function afterAttempt(delivery: DeliveryRow, o: AttemptOutcome, policy: RetryPolicy): AttemptRecord {
  const next = new Date(o.at.getTime() + backoffMs(delivery.attempts + 1, policy));
  const status: DeliveryStatus = o.succeeded
    ? 'delivered'
    : next.getTime() > new Date(delivery.deadline_at).getTime()
      ? 'failed'
      : 'pending';
  return { delivery, outcome: o, status, nextAttemptAt: status === 'pending' ? next : o.at };
}

/**
 * Records a round's attempts in one transaction. Until it commits a crash forgets them, and those events
 * are sent again: receivers deduplicate by event id, so this costs a repeat, never a loss.
 */
export async function recordAttempts(db: Knex, records: AttemptRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db.transaction(async (trx) => {
    await trx.batchInsert(
      'webhook_attempts',
      records.map(({ delivery, outcome: o }) => ({
        delivery_id: delivery.id,
        attempted_at: o.at,
        outcome: o.succeeded ? 'succeeded' : 'failed',
        response_code: o.responseCode,
        latency_ms: o.latencyMs,
        error: o.error,
      })),
      1000,
    );
    const rows = records.map((r) => [
      r.delivery.id,
      r.status,
      r.nextAttemptAt.toISOString(),
      r.outcome.succeeded ? r.outcome.at.toISOString() : null,
    ]);
    await trx.raw(
      `UPDATE webhook_deliveries d SET status = v.status, attempts = d.attempts + 1,
         next_attempt_at = v.next_at::timestamptz, delivered_at = v.delivered_at::timestamptz
       FROM (SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(id text, status text, next_at text, delivered_at text)) v
       WHERE d.id = v.id`,
      [
        JSON.stringify(
          rows.map(([id, status, next_at, delivered_at]) => ({ id, status, next_at, delivered_at })),
        ),
      ],
    );
  });
}

/** When the endpoint's next pending delivery is due, if it has one. */
export async function nextDueAt(db: Knex, endpointId: string): Promise<Date | null> {
  const { rows } = await db.raw(`SELECT min(next_attempt_at) AS at FROM (${HEADS}) heads`, [endpointId]);
  return rows[0]?.at ? new Date(rows[0].at) : null;
}

/** Endpoints with deliveries due for a while: their workflow missed a wake-up (a relay died mid-signal). */
export async function endpointsOverdue(
  db: Knex,
  olderThanMs: number,
): Promise<{ id: string; organizationId: string }[]> {
  const rows = await db('webhook_deliveries as d')
    .join('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .where({ 'd.status': 'pending', 'e.status': 'enabled' })
    .where('d.next_attempt_at', '<', new Date(Date.now() - olderThanMs))
    .distinct('e.id', 'e.organization_id');
  return rows.map((r) => ({ id: r.id as string, organizationId: r.organization_id as string }));
}

/** A re-enabled endpoint gets its waiting deliveries at once, with a fresh retry window. */
export async function resumeDeliveries(trx: Knex, endpointId: string, policy: RetryPolicy): Promise<void> {
  await trx('webhook_deliveries')
    .where({ endpoint_id: endpointId, status: 'pending' })
    .update({
      next_attempt_at: trx.fn.now(),
      deadline_at: trx.raw('GREATEST(deadline_at, ?)', [new Date(Date.now() + policy.windowMs)]),
    });
}

/** Queues the events again for the endpoint (a replay); answers how many. Receivers dedupe by event id. */
export async function replayEvents(
  trx: Knex,
  endpoint: { id: string; enabledEvents: string[] },
  events: Pick<EventRow, 'id' | 'seq' | 'type' | 'object_id'>[],
  policy: RetryPolicy,
): Promise<number> {
  const rows = events
    .filter((e) => matches(endpoint.enabledEvents, e.type))
    .map((e) => ({
      id: newId('whd'),
      endpoint_id: endpoint.id,
      event_id: e.id,
      event_seq: e.seq,
      object_id: e.object_id,
      status: 'pending',
      next_attempt_at: trx.fn.now(),
      deadline_at: new Date(Date.now() + policy.windowMs),
      replay: true,
    }));
  if (rows.length > 0) await trx.batchInsert('webhook_deliveries', rows, 1000);
  return rows.length;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  eventId?: string;
}

export async function listDeliveries(
  db: Knex,
  endpointId: string,
  f: DeliveryFilter,
  page: PageRequest,
): Promise<Page<DeliveryRow & { event_type: string }>> {
  const query = db('webhook_deliveries as d')
    .join('outbox as o', 'o.id', 'd.event_id')
    .where({ 'd.endpoint_id': endpointId })
    .select('d.*', 'o.type as event_type');
  if (f.status) query.where({ 'd.status': f.status });
  if (f.eventId) query.where({ 'd.event_id': f.eventId });
  return fetchPage(query, page, 'd.id', (r: DeliveryRow & { event_type: string }) => r);
}

export async function getDelivery(
  db: Knex,
  endpointId: string,
  id: string,
): Promise<{ delivery: DeliveryRow & { event_type: string }; attempts: AttemptRow[] } | undefined> {
  const delivery = await db('webhook_deliveries as d')
    .join('outbox as o', 'o.id', 'd.event_id')
    .where({ 'd.endpoint_id': endpointId, 'd.id': id })
    .first('d.*', 'o.type as event_type');
  if (!delivery) return undefined;
  const attempts = await db<AttemptRow>('webhook_attempts').where({ delivery_id: id }).orderBy('id');
  return { delivery, attempts };
}
