// Accounting webhooks end to end: events committed to the outbox (as a change would write them) -> relay ->
// each endpoint's delivery workflow (Temporal dev server, SQLite file, durable) -> signed HTTP POST to a
// verifying receiver on loopback. Prints events delivered per second and the lag from the event's commit to
// the receiver's 2xx, p50/p99: the rate draining a committed backlog, and the lag at a steady event rate.
// It also checks that every event arrived once and each object's events in order.
// Usage: npm run bench:webhooks -- [events=10000] [objects=2000] [rate=200] [steadySeconds=15]
import { startBenchStack } from './stack';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_WEBHOOK_DELIVERY } from '../activities/webhook-delivery';
import { seedDemo } from '../bin/seed-demo';
import { createLogger } from '../config/logger';
import { recordEvent } from '../db/repositories/events';
import { createEndpoint } from '../db/repositories/webhookEndpoints';
import type { EventEnvelope, EventType } from '../events/types';
import { createExampleReceiver } from '../webhooks/example-receiver';
import { createOutboxRelay } from '../webhooks/outbox-relay';

// One object's life, in order: five events of distinct types (one event per type and object).
const LIFE: EventType[] = [
  'session.started',
  'payment.authorized',
  'payment.captured',
  'session.completed',
  'receipt.issued',
];
const ANCHOR_SIGNALS_PER_S = 223; // ARCHITECTURE.md: signals into open workflows, SQLite file
const ANCHOR_PG_INSERTS_PER_S = 14_000; // ARCHITECTURE.md: single-row INSERT + commit, 50 clients

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;

async function main(): Promise<void> {
  const [events = 10000, objects = 2000, rate = 200, steadySeconds = 15] = process.argv.slice(2).map(Number);
  const { db, env, dir, stop } = await startBenchStack({ name: 'webhooks', taskQueue: 'bench-webhooks' });
  const relay = createOutboxRelay({
    db,
    client: env.client,
    taskQueue: 'bench-webhooks',
    retry: DEFAULT_WEBHOOK_DELIVERY.retry,
    log: createLogger({ component: 'bench' }, 'error'),
  });

  const demo = await seedDemo(db, dir);
  const { organization_id: org } = await db('charge_points')
    .where({ identity: demo.chargePointIdentity })
    .first();
  // The receiver books each event id once and notes when it answered 2xx.
  const received = new Map<string, number>();
  const order = new Map<string, string[]>();
  let deliveries = 0;
  const secrets: string[] = [];
  const listener = createExampleReceiver({
    secrets,
    onEvent: (e: EventEnvelope) => {
      received.set(e.id, Date.now());
      order.set(e.data.object_id, [...(order.get(e.data.object_id) ?? []), e.type]);
    },
  });
  const receiver = http.createServer((req, res) => {
    deliveries++;
    listener(req, res);
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { secret } = await createEndpoint(db, {
    organizationId: org,
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
    description: 'bench',
    enabledEvents: ['*'],
  });
  secrets.push(secret);

  let serial = 0;
  // Each event commits in its own transaction, as the change that writes it would.
  const emit = async (object: string, type: EventType) => {
    await db.transaction((trx) =>
      recordEvent(trx, {
        organizationId: org,
        type,
        objectType: 'bench',
        objectId: object,
        object: { n: serial++ },
      }),
    );
  };
  const waitFor = async (count: number, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (received.size < count && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  };
  const lagsSince = async (since: number) => {
    const rows: { id: string; created_at: Date }[] = await db('outbox')
      .where('seq', '>', since)
      .select('id', 'created_at');
    return rows.filter((r) => received.has(r.id)).map((r) => received.get(r.id)! - r.created_at.getTime());
  };
  const report = (label: string, count: number, seconds: number, lags: number[]) =>
    console.log(
      `${label.padEnd(34)} ${String(count).padStart(6)} events  ${(count / seconds).toFixed(0).padStart(5)} delivered/s  ` +
        `lag p50 ${pct(lags, 0.5).toFixed(0)} ms  p99 ${pct(lags, 0.99).toFixed(0)} ms  max ${Math.max(...lags).toFixed(0)} ms`,
    );

  // Backlog: `events` already committed (a receiver back after an outage, or a busy hour), delivered from
  // a standing start: the pure delivery rate. Objects interleave; each object's events are in order.
  const lives = Math.max(objects, Math.ceil(events / LIFE.length));
  const burst: [string, EventType][] = [];
  for (let step = 0; step < LIFE.length; step++)
    for (let o = 0; o < lives; o++) burst.push([`obj_${o}`, LIFE[step]]);
  burst.length = Math.min(burst.length, events);
  for (let at = 0; at < burst.length; at += 500) {
    await db.transaction(async (trx) => {
      for (const [object, type] of burst.slice(at, at + 500)) {
        await recordEvent(trx, {
          organizationId: org,
          type,
          objectType: 'bench',
          objectId: object,
          object: { n: serial++ },
        });
      }
    });
  }
  const t0 = Date.now();
  await relay.start();
  await waitFor(burst.length, 300_000);
  const burstSeconds = (Date.now() - t0) / 1000;

  // Steady: `rate` events/s for `steadySeconds`, each on a fresh object (a steady stream of sessions).
  const { max: lastSeq } = (await db('outbox').max('seq as max').first()) as { max: string };
  const before = received.size;
  const steadyCount = rate * steadySeconds;
  const t1 = Date.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < steadyCount; i++) {
    const due = t1 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(emit(`steady_${i}`, 'receipt.issued'));
  }
  await Promise.all(pending);
  await waitFor(before + steadyCount, 120_000);
  const steadySecondsTaken = (Date.now() - t1) / 1000;
  const steadyLags = await lagsSince(Number(lastSeq));

  const outOfOrder = [...order.entries()].filter(
    ([o, types]) => o.startsWith('obj_') && types.some((t, i) => LIFE.indexOf(t as EventType) !== i),
  );
  console.log(
    `\nwebhook delivery, 1 endpoint, receiver on loopback verifying signatures (2 cores, dev server on SQLite)`,
  );
  console.log(
    `backlog: ${burst.length} events of ${Math.min(lives, burst.length)} objects delivered in ${burstSeconds.toFixed(1)} s: ` +
      `${(burst.length / burstSeconds).toFixed(0)} delivered/s`,
  );
  report(`steady: ${rate}/s for ${steadySeconds} s`, steadyCount, steadySecondsTaken, steadyLags);
  console.log(
    `delivered ${received.size} distinct events in ${deliveries} requests; objects out of order: ${outOfOrder.length}; ` +
      `missing: ${burst.length + steadyCount - received.size}`,
  );
  console.log(
    `anchors (ARCHITECTURE.md): ${ANCHOR_SIGNALS_PER_S} Temporal signals/s, ${ANCHOR_PG_INSERTS_PER_S} PostgreSQL commits/s; ` +
      `delivery costs about one workflow round per batch of up to ${DEFAULT_WEBHOOK_DELIVERY.batchSize} events, not one per event`,
  );

  await relay.close();
  receiver.close();
  await stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
