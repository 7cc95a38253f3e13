// Sessions through the whole platform: strict OCPP clients -> bridge -> Temporal (dev server, SQLite file,
// durable) -> worker -> PostgreSQL and the Stripe fake. Prints sessions/s and per-message ack latencies,
// next to the engine's own limits measured on this machine (ARCHITECTURE.md) as the anchors.
// Usage: npm run build && node dist/bench/session-throughput.js [sessions=100] [concurrency=20] [meterValues=6]
import { startBenchStack } from './stack';
import { connectChargePoint } from '../bin/ocpp-client';
import { startBillingServer } from '../bin/server';
import { seedDemo } from '../bin/seed-demo';
import { createChargePoint } from '../db/repositories/chargePoints';

const ANCHOR_SKELETON_SESSIONS_PER_S = 8.2; // skeleton session, 50 in flight, SQLite file
const ANCHOR_SIGNALS_PER_S = 223; // signals into open workflows, SQLite file

const pct = (xs: number[], p: number) =>
  xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function main(): Promise<void> {
  const [sessions = 100, concurrency = 20, meterValues = 6] = process.argv.slice(2).map(Number);
  const { db, env, dir, stop } = await startBenchStack({ name: 'sessions', taskQueue: 'bench' });
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
    const identity = `CP-BENCH-${i}`;
    await createChargePoint(db, org.organization_id, { identity, siteId: org.site_id, holdAmount: '50.00' });
    identities.push(identity);
  }

  const latency: Record<string, number[]> = { StartTransaction: [], MeterValues: [], StopTransaction: [] };
  const timed = async <T>(action: string, run: () => Promise<T>) => {
    const t = performance.now();
    const out = await run();
    latency[action].push(performance.now() - t);
    return out;
  };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    identities.map(async (identity) => {
      const cp = await connectChargePoint({ endpoint: server.ocppUrl, identity });
      for (let n = next++; n < sessions; n = next++) {
        const start = Date.now() - 3_600_000 + n;
        const at = (min: number) => new Date(start + min * 60_000).toISOString();
        const { transactionId } = await timed('StartTransaction', () =>
          cp.call<{ transactionId: number }>('StartTransaction', {
            connectorId: 1,
            idTag: demo.idTag,
            meterStart: 0,
            timestamp: at(0),
          }),
        );
        for (let i = 1; i <= meterValues; i++) {
          await timed('MeterValues', () =>
            cp.call('MeterValues', {
              connectorId: 1,
              transactionId,
              meterValue: [{ timestamp: at(i), sampledValue: [{ value: String(i * 1000) }] }],
            }),
          );
        }
        await timed('StopTransaction', () =>
          cp.call('StopTransaction', {
            transactionId,
            meterStop: (meterValues + 1) * 1000,
            timestamp: at(meterValues + 1),
          }),
        );
      }
      await cp.close();
    }),
  );
  const acked = (performance.now() - t0) / 1000;
  // Sessions are done when every receipt is written.
  for (;;) {
    const { n } = (await db('receipts').count({ n: '*' }).first()) as { n: string };
    if (Number(n) >= sessions) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const done = (performance.now() - t0) / 1000;

  const rate = sessions / done;
  console.log(
    `sessions: ${sessions}, charge points in parallel: ${concurrency}, MeterValues per session: ${meterValues}`,
  );
  console.log(
    `all OCPP messages acknowledged in ${acked.toFixed(1)} s; all receipts written in ${done.toFixed(1)} s`,
  );
  console.log(
    `billed sessions/s: ${rate.toFixed(2)} (engine anchor, skeleton session on SQLite file: ${ANCHOR_SKELETON_SESSIONS_PER_S}/s -> ${(rate / ANCHOR_SKELETON_SESSIONS_PER_S).toFixed(2)}x)`,
  );
  const msgs = sessions * (meterValues + 2);
  console.log(
    `OCPP transaction messages/s acked: ${(msgs / acked).toFixed(0)} (anchor, signals/s on SQLite file: ${ANCHOR_SIGNALS_PER_S})`,
  );
  for (const [action, xs] of Object.entries(latency)) {
    console.log(
      `${action.padEnd(17)} ack p50 ${pct(xs, 0.5).toFixed(1)} ms  p99 ${pct(xs, 0.99).toFixed(1)} ms  (n=${xs.length})`,
    );
  }

  await server.close();
  await stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
