// What paying by card costs a session end to end: the same sessions through the whole platform (strict OCPP
// clients -> bridge -> Temporal dev server on a SQLite file -> worker -> PostgreSQL and the Stripe fake), run
// twice in one invocation:
//   (a) payments on: drivers with a card, a hold policy of EUR 5.00 raised at 80 %, and the fake answering
//       every API call in 100-300 ms as a real provider does. Every third session charges twice the energy
//       and outgrows its hold: it is incremented, or (cards that offer no increments) the rest is charged
//       off-session after the capture;
//   (b) payments off: the same sessions by drivers without a payment method (postpaid): no provider call.
// Prints sessions/s for both and their ratio, provider calls per session by kind (from the fake's request
// log), StopTransaction -> receipt p50/p99, next to the engine's own limits measured on this machine
// (ARCHITECTURE.md) as the anchors.
// Time is compressed but the order of a real session is kept: a real one charges for many minutes, so its
// hold is placed before the energy that outgrows it and raised before it ends. Here each charge point waits,
// after StartTransaction, until the session is open (and, with a card, its hold placed), and a long session
// with a card that can grow waits, before StopTransaction, until its hold was raised. Without that, sessions a
// few milliseconds long would end before the platform under load had placed their hold: every difference
// would be charged off-session and no hold would ever grow. Both runs wait the same way.
// Usage: npm run build && node dist/bench/payments.js [sessions=100] [concurrency=20] [meterValues=6]
//        [meterIntervalMs=0] [latencyMinMs=100] [latencyMaxMs=300] [warmup=concurrency]
// BENCH_LOG=warn shows the platform's warnings (activity retries, provider errors) while it runs.
import { startBenchStack } from './stack';
import os from 'node:os';
import type { Knex } from 'knex';
import { connectChargePoint } from '../bin/ocpp-client';
import { seedDemo } from '../bin/seed-demo';
import { startBillingServer } from '../bin/server';
import { createChargePoint } from '../db/repositories/chargePoints';
import { putHoldPolicy } from '../db/repositories/holdPolicies';
import { createIdTag, createUser } from '../db/repositories/users';
import { type FakeStripe } from '../payments/fake-stripe';
import { type PaymentProvider } from '../payments/port';

const ANCHOR_SKELETON_SESSIONS_PER_S = 8.2; // skeleton session, 50 in flight, SQLite file
const ANCHOR_SIGNALS_PER_S = 223; // signals into open workflows, SQLite file

// The hold policy: low enough that a session charging twice the energy outgrows it.
const HOLD = { amount: '5.00', currency: 'EUR', incrementAtPercent: '80', onLimit: 'charge_after' } as const;
// Cards of the drivers in (a), one driver per charge point; the last offers no incremental authorization,
// so its long sessions are settled with a capture of the hold and an off-session charge of the rest.
const NO_INCREMENT_CARD = 'pm_card_visa_no_increment';
const CARDS = ['pm_card_visa', 'pm_card_mastercard', 'pm_card_amex', NO_INCREMENT_CARD];
const LONG_EVERY = 3;
// The provider calls a session can make, by what they do (the fake's log tells them apart).
const CALL_KINDS = ['authorize', 'increment', 'capture', 'off_session', 'cancel'] as const;

const pct = (xs: number[], p: number) =>
  xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Bench {
  db: Knex;
  fake: FakeStripe;
  ocppUrl: string;
  identities: string[];
  meterValues: number;
  meterIntervalMs: number;
  meter: CallMeter;
}

interface Driver {
  idTag: string;
  card: string | null;
}

interface PhaseResult {
  sessions: number;
  /** StartTransaction acknowledged -> the session open (and with a card, its hold placed). */
  readyMs: number[];
  /** Long sessions that gave up waiting for their hold to grow. */
  incrementWaitsTimedOut: number;
  stoppedSeconds: number;
  doneSeconds: number;
  rate: number;
  stopToReceiptMs: number[];
  calls: Record<string, number>;
  failedCalls: number;
  paymentStatuses: Record<string, number>;
  amountPaid: number;
  /** Money the fake captured during the phase (holds captured and off-session charges), in minor units. */
  capturedMinor: number;
  /** Provider calls as the worker's activities saw them: mean duration, and the most in flight at once. */
  meanCallMs: number;
  maxInFlight: number;
}

const WAIT_POLL_MS = 50;
const WAIT_LIMIT_MS = 60_000;

/** Polls until `done` answers a value or the limit passes (undefined then). */
async function until<T>(done: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const value = await done();
    if (value !== undefined || Date.now() > deadline) return value;
    await sleep(WAIT_POLL_MS);
  }
}

/** The session's id once its workflow opened it and, with a card, answered for its hold (placed or declined). */
async function untilOpen(db: Knex, transactionId: number, withCard: boolean): Promise<string | undefined> {
  return until(async () => {
    const row: { id: string; status: string; payment: string | null } | undefined = await db(
      'charging_sessions as cs',
    )
      .leftJoin('payments as p', 'p.session_id', 'cs.id')
      .where('cs.transaction_id', transactionId)
      .first('cs.id', 'cs.status', 'p.status as payment');
    if (!row || row.status === 'starting' || (withCard && !row.payment)) return undefined;
    return row.id;
  });
}

/** True once the session's hold was raised, or its raise declined; false when the wait timed out. */
async function untilIncrement(db: Knex, sessionId: string): Promise<boolean> {
  const seen = await until(async () =>
    (await db('payment_movements').where({ session_id: sessionId, kind: 'increment' }).first('id'))
      ? true
      : undefined,
  );
  return seen === true;
}

/** `sessions` sessions over the charge points in parallel, driver i at charge point i; waits for every receipt. */
async function runPhase(b: Bench, sessions: number, drivers: Driver[]): Promise<PhaseResult> {
  const receiptsBefore = await countReceipts(b.db);
  const callsBefore = b.fake.requests().length;
  const intentsBefore = new Set(b.fake.listPaymentIntents().map((pi) => pi.id));
  const stopSentAt = new Map<number, number>();
  const readyMs: number[] = [];
  let incrementWaitsTimedOut = 0;
  b.meter.reset();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    b.identities.map(async (identity, i) => {
      const cp = await connectChargePoint({ endpoint: b.ocppUrl, identity });
      for (let n = next++; n < sessions; n = next++) {
        // Distinct start times across phases: a resent StartTransaction is known by its connector and time.
        const start = Date.now() - 3_600_000 + n;
        const at = (min: number) => new Date(start + min * 60_000).toISOString();
        const long = n % LONG_EVERY === LONG_EVERY - 1;
        const whPerMinute = long ? 2000 : 1000;
        const driver = drivers[i];
        const { transactionId } = await cp.call<{ transactionId: number }>('StartTransaction', {
          connectorId: 1,
          idTag: driver.idTag,
          meterStart: 0,
          timestamp: at(0),
        });
        const started = performance.now();
        const sessionId = await untilOpen(b.db, transactionId, driver.card !== null);
        readyMs.push(performance.now() - started);
        for (let m = 1; m <= b.meterValues; m++) {
          if (b.meterIntervalMs > 0) await sleep(b.meterIntervalMs);
          await cp.call('MeterValues', {
            connectorId: 1,
            transactionId,
            meterValue: [{ timestamp: at(m), sampledValue: [{ value: String(m * whPerMinute) }] }],
          });
        }
        if (long && sessionId && driver.card !== null && driver.card !== NO_INCREMENT_CARD) {
          if (!(await untilIncrement(b.db, sessionId))) incrementWaitsTimedOut += 1;
        }
        stopSentAt.set(transactionId, Date.now());
        await cp.call('StopTransaction', {
          transactionId,
          meterStop: (b.meterValues + 1) * whPerMinute,
          timestamp: at(b.meterValues + 1),
        });
      }
      await cp.close();
    }),
  );
  const stoppedSeconds = (performance.now() - t0) / 1000;
  // Sessions are done when every receipt is written.
  const deadline = Date.now() + Math.max(180_000, sessions * 2_000);
  for (;;) {
    const written = (await countReceipts(b.db)) - receiptsBefore;
    if (written >= sessions) break;
    if (Date.now() > deadline) {
      throw new Error(`only ${written} of ${sessions} receipts were written; is the worker failing?`);
    }
    await sleep(100);
  }
  const doneSeconds = (performance.now() - t0) / 1000;

  const rows: { transaction_id: number; issued_at: Date; payment_status: string; amount_paid: string }[] =
    await b
      .db('receipts as r')
      .join('charging_sessions as cs', 'cs.id', 'r.session_id')
      .whereIn('cs.transaction_id', [...stopSentAt.keys()])
      .select('cs.transaction_id', 'r.issued_at', 'r.payment_status', 'r.amount_paid');
  const paymentStatuses: Record<string, number> = {};
  let amountPaid = 0;
  for (const r of rows) {
    paymentStatuses[r.payment_status] = (paymentStatuses[r.payment_status] ?? 0) + 1;
    amountPaid += Math.round(Number(r.amount_paid) * 100);
  }
  const calls: Record<string, number> = {};
  let failedCalls = 0;
  for (const r of b.fake.requests().slice(callsBefore)) {
    const kind = r.operation ?? (r.method === 'GET' ? 'read' : `${r.method} ${r.path}`);
    calls[kind] = (calls[kind] ?? 0) + 1;
    if (r.status >= 400) failedCalls += 1;
  }
  const capturedMinor = b.fake
    .listPaymentIntents()
    .filter((pi) => !intentsBefore.has(pi.id))
    .reduce((sum, pi) => sum + pi.amount_received, 0);
  return {
    sessions,
    readyMs,
    incrementWaitsTimedOut,
    stoppedSeconds,
    doneSeconds,
    rate: sessions / doneSeconds,
    stopToReceiptMs: rows.map((r) => r.issued_at.getTime() - stopSentAt.get(r.transaction_id)!),
    calls,
    failedCalls,
    paymentStatuses,
    amountPaid,
    capturedMinor,
    meanCallMs: b.meter.calls ? b.meter.totalMs / b.meter.calls : 0,
    maxInFlight: b.meter.maxInFlight,
  };
}

/** How the worker's provider calls overlapped: the most at once, and their mean duration as the worker saw it. */
class CallMeter {
  inFlight = 0;
  maxInFlight = 0;
  calls = 0;
  totalMs = 0;

  reset(): void {
    Object.assign(this, { maxInFlight: this.inFlight, calls: 0, totalMs: 0 });
  }

  wrap(provider: PaymentProvider): PaymentProvider {
    const timed =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const t = performance.now();
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          return await fn(...args);
        } finally {
          this.inFlight -= 1;
          this.calls += 1;
          this.totalMs += performance.now() - t;
        }
      };
    return {
      ...provider,
      capabilities: timed(provider.capabilities),
      authorize: timed(provider.authorize),
      increment: timed(provider.increment),
      capture: timed(provider.capture),
      release: timed(provider.release),
      cancel: timed(provider.cancel),
      chargeOffSession: timed(provider.chargeOffSession),
    };
  }
}

async function countReceipts(db: Knex): Promise<number> {
  const { n } = (await db('receipts').count({ n: '*' }).first()) as { n: string };
  return Number(n);
}

/** One driver per charge point: with a card (and a customer to charge the rest to), or without (postpaid). */
async function createDrivers(
  db: Knex,
  organizationId: string,
  count: number,
  prefix: string,
  withCard: boolean,
) {
  const drivers: Driver[] = [];
  for (let i = 0; i < count; i++) {
    const card = withCard ? CARDS[i % CARDS.length] : null;
    const user = await createUser(db, organizationId, {
      email: `${prefix.toLowerCase()}-${i}@bench.example`,
      name: `Bench driver ${prefix}-${i}`,
      userType: 'public',
      paymentMethodId: card,
      paymentCustomerId: withCard ? `cus_bench_${i}` : null,
    });
    const idTag = `BENCH-${prefix}-${i}`;
    await createIdTag(db, organizationId, {
      idTag,
      userId: user.id,
      type: 'rfid',
      status: 'Accepted',
      expiresAt: null,
    });
    drivers.push({ idTag, card });
  }
  return drivers;
}

function report(label: string, r: PhaseResult): void {
  console.log(`\n${label}`);
  console.log(
    `  all sessions stopped in ${r.stoppedSeconds.toFixed(1)} s; all receipts written in ${r.doneSeconds.toFixed(1)} s`,
  );
  console.log(
    `  billed sessions/s: ${r.rate.toFixed(2)} (engine anchor, skeleton session on SQLite file: ` +
      `${ANCHOR_SKELETON_SESSIONS_PER_S}/s -> ${(r.rate / ANCHOR_SKELETON_SESSIONS_PER_S).toFixed(2)}x)`,
  );
  console.log(
    `  StartTransaction -> session open${r.calls.authorize ? ' and hold placed' : ''}: ` +
      `p50 ${pct(r.readyMs, 0.5).toFixed(0)} ms  p99 ${pct(r.readyMs, 0.99).toFixed(0)} ms` +
      (r.incrementWaitsTimedOut
        ? `; ${r.incrementWaitsTimedOut} long sessions stopped before their hold grew`
        : ''),
  );
  console.log(
    `  StopTransaction -> receipt: p50 ${pct(r.stopToReceiptMs, 0.5).toFixed(0)} ms  ` +
      `p99 ${pct(r.stopToReceiptMs, 0.99).toFixed(0)} ms  (n=${r.stopToReceiptMs.length})`,
  );
  const total = Object.values(r.calls).reduce((a, b) => a + b, 0);
  const kinds = [
    ...CALL_KINDS,
    ...Object.keys(r.calls).filter((k) => !(CALL_KINDS as readonly string[]).includes(k)),
  ];
  const byKind = kinds.map((k) => `${k} ${((r.calls[k] ?? 0) / r.sessions).toFixed(2)}`).join(', ');
  console.log(
    `  provider calls per session: ${(total / r.sessions).toFixed(2)} (${byKind}); ` +
      `${total} calls, ${r.failedCalls} answered with an error`,
  );
  if (r.meanCallMs > 0) {
    console.log(
      `  provider calls as the worker saw them: mean ${r.meanCallMs.toFixed(0)} ms, at most ${r.maxInFlight} at once`,
    );
  }
  const statuses = Object.entries(r.paymentStatuses)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  console.log(
    `  receipts: ${statuses}; amount paid EUR ${(r.amountPaid / 100).toFixed(2)}, ` +
      `captured at the provider EUR ${(r.capturedMinor / 100).toFixed(2)}` +
      (r.amountPaid === r.capturedMinor ? ' (equal)' : ' (DIFFERENT)'),
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).map(Number);
  const [
    sessions = 100,
    concurrency = 20,
    meterValues = 6,
    meterIntervalMs = 0,
    latencyMin = 100,
    latencyMax = 300,
    warmup = concurrency,
  ] = args;
  process.env.LOG_LEVEL = process.env.BENCH_LOG ?? 'error';
  const meter = new CallMeter();
  const { db, env, fake, dir, stop } = await startBenchStack({
    name: 'payments',
    taskQueue: 'bench',
    fake: { latencyMs: { min: latencyMin, max: latencyMax } },
    payments: (provider) => meter.wrap(provider),
    logLevel: process.env.BENCH_LOG === 'warn' ? 'WARN' : 'ERROR',
  });
  const server = await startBillingServer({
    db,
    client: env.client,
    taskQueue: 'bench',
    host: '127.0.0.1',
    apiPort: 0,
    ocppPort: 0,
  });
  const demo = await seedDemo(db, dir);
  const org = await db('charge_points').where({ identity: demo.chargePointIdentity }).first();
  const identities: string[] = [];
  for (let i = 0; i < concurrency; i++) {
    const identity = `CP-PAY-${i}`;
    await createChargePoint(db, org.organization_id, { identity, siteId: org.site_id, holdAmount: '50.00' });
    identities.push(identity);
  }
  await db.transaction((trx) => putHoldPolicy(trx, org.organization_id, {}, HOLD));
  const cardDrivers = await createDrivers(db, org.organization_id, concurrency, 'CARD', true);
  const postpaidDrivers = await createDrivers(db, org.organization_id, concurrency, 'POST', false);
  const bench: Bench = { db, fake, ocppUrl: server.ocppUrl, identities, meterValues, meterIntervalMs, meter };

  console.log(
    `sessions: ${sessions} per run, charge points in parallel: ${concurrency}, MeterValues per session: ` +
      `${meterValues}${meterIntervalMs > 0 ? ` (one every ${meterIntervalMs} ms)` : ''}, ` +
      `every ${LONG_EVERY}rd session charging twice the energy`,
  );
  console.log(
    `hold policy: EUR ${HOLD.amount}, raised at ${HOLD.incrementAtPercent} %, on limit ${HOLD.onLimit}; ` +
      `cards: ${CARDS.join(', ')}; provider latency ${latencyMin}-${latencyMax} ms per call`,
  );
  const load = () => os.loadavg()[0].toFixed(2);
  console.log(
    `load average before: ${load()} on ${os.cpus().length} cores (other work on the machine skews the figures)`,
  );
  if (warmup > 0) {
    // Not measured: the first sessions pay for starting the worker's workflow caches and connections.
    await runPhase(bench, warmup, postpaidDrivers);
  }
  const on = await runPhase(bench, sessions, cardDrivers);
  report(`(a) payments on: card holds, provider answering in ${latencyMin}-${latencyMax} ms`, on);
  const off = await runPhase(bench, sessions, postpaidDrivers);
  report('(b) payments off: postpaid drivers, no provider calls', off);

  console.log(
    `\npayments on / off: ${(on.rate / off.rate).toFixed(2)}x sessions/s ` +
      `(${on.rate.toFixed(2)} vs ${off.rate.toFixed(2)}); StopTransaction -> receipt p50 ` +
      `${pct(on.stopToReceiptMs, 0.5).toFixed(0)} vs ${pct(off.stopToReceiptMs, 0.5).toFixed(0)} ms`,
  );
  console.log(
    `anchors (ARCHITECTURE.md, 2 cores): skeleton session ${ANCHOR_SKELETON_SESSIONS_PER_S} sessions/s, ` +
      `${ANCHOR_SIGNALS_PER_S} signals/s on the SQLite file; warm-up of ${warmup} postpaid sessions not counted; ` +
      `load average after: ${load()}`,
  );

  await server.close();
  await stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
