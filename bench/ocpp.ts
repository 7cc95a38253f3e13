// Authorize round trips with many connected charge points, and the bridge's memory per connection.
// The bridge runs in a child process (bench/ocpp-bridge.ts) with the entitlement cache over PostgreSQL;
// strict ocpp-rpc clients in this process connect without passwords (a scrypt check per connection would
// only slow the set-up) and send Authorize at a fixed rate from random charge points.
// Then MeterValues at a fixed rate spread over that many live sessions, acknowledged once committed to the
// inbox (the relay to the session workflows is replaced by a stand-in: Temporal's share is in bench/ and
// docs/ocpp-bridge.md).
// Targets: Authorize p99 < 10 ms at 200/s with 1,000 charge points; MeterValues >= 1,000/s with p99 < 100 ms
// over 500 sessions.
// Usage: npm run build && node dist/bench/ocpp.js [chargePoints=1000] [authorizePerSecond=200] [seconds=15]
//        [sessions=500] [meterValuesPerSecond=1000]
import { fork, ChildProcess } from 'node:child_process';
import path from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { createDb, dropDatabase, ensureDatabase, migrateLatest } from '../db/knex';
import { newId } from '../db/ids';

type RpcOptions = ConstructorParameters<typeof RPCClient>[0];
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function ask<T>(child: ChildProcess, msg: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (reply) => resolve(reply as T));
    child.send(msg);
  });
}

interface Run {
  latencies: number[];
  failed: number;
  elapsed: number;
}

/** Sends `total` calls at `rate` per second, whatever the answers take; latencies sorted. */
async function atFixedRate(rate: number, total: number, call: (n: number) => Promise<boolean>): Promise<Run> {
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; sent < due; sent++) {
        const t0 = performance.now();
        call(sent)
          .then((ok) => {
            if (!ok) failed++;
            latencies.push(performance.now() - t0);
          })
          .catch(() => failed++)
          .finally(() => {
            if (++done === total) resolve();
          });
      }
      if (sent === total) clearInterval(tick);
    }, 2);
  });
  latencies.sort((a, b) => a - b);
  return { latencies, failed, elapsed: (performance.now() - started) / 1000 };
}

function report(label: string, run: Run, targetP99Ms: number): void {
  const { latencies } = run;
  const p99 = pct(latencies, 0.99);
  console.log(
    `${label}: ${latencies.length} answered in ${run.elapsed.toFixed(1)} s (${Math.round(latencies.length / run.elapsed)}/s), ${run.failed} failed or refused`,
  );
  console.log(
    `  round trip p50 ${pct(latencies, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms (target p99 < ${targetP99Ms} ms: ${p99 < targetP99Ms ? 'met' : 'NOT met'})`,
  );
}

async function seed(dbUrl: string, chargePoints: number, sessions: number): Promise<void> {
  await dropDatabase(dbUrl);
  await ensureDatabase(dbUrl);
  const db = createDb(dbUrl);
  await migrateLatest(db);
  const org = newId('org');
  await db('organizations').insert({ id: org, name: 'Bench' });
  await db('user_types').insert({ organization_id: org, name: 'public' });
  const project = newId('prj');
  await db('projects').insert({ id: project, organization_id: org, name: 'P' });
  const site = newId('site');
  await db('sites').insert({ id: site, organization_id: org, project_id: project, name: 'S' });
  const rows = Array.from({ length: chargePoints }, (_, i) => i);
  await db.batchInsert(
    'charge_points',
    rows.map((i) => ({
      id: newId('cp'),
      organization_id: org,
      site_id: site,
      identity: `BENCH-${i}`,
      hold_amount: '50',
    })),
    500,
  );
  const users = rows.map(() => newId('usr'));
  await db.batchInsert(
    'users',
    users.map((id, i) => ({
      id,
      organization_id: org,
      email: `b${i}@example.com`,
      user_type: 'public',
      payment_method_id: 'pm_card_visa',
    })),
    500,
  );
  const cpIds = await db('charge_points').orderByRaw('substring(identity from 7)::int').pluck('id');
  await db.batchInsert(
    'charging_sessions',
    cpIds.slice(0, sessions).map((cp: string, i: number) => ({
      id: newId('ses'),
      organization_id: org,
      charge_point_id: cp,
      connector_id: 1,
      transaction_id: i + 1,
      // Not one of the Authorize tags, which would then answer ConcurrentTx.
      id_tag: `LIVE-${i}`,
      status: 'active',
      currency: 'EUR',
      meter_start_wh: '0',
      started_at: new Date(),
      workflow_id: `charging-session:BENCH-${i}:${i + 1}`,
    })),
    500,
  );
  await db.batchInsert(
    'id_tags',
    users.map((user_id, i) => ({
      id: newId('tag'),
      organization_id: org,
      id_tag: `TAG-${i}`,
      user_id,
      type: 'rfid',
    })),
    500,
  );
  await db.destroy();
}

async function main(): Promise<void> {
  const [chargePoints = 1000, rate = 200, seconds = 15, sessions = 500, meterRate = 1000] = process.argv
    .slice(2)
    .map(Number);
  const dbUrl = `postgres://postgres@127.0.0.1:5432/ev_billing_bench_ocpp_${process.pid}`;
  await seed(dbUrl, chargePoints, Math.min(sessions, chargePoints));
  const child = fork(path.join(__dirname, 'ocpp-bridge.js'), [dbUrl], {
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  const { url } = await new Promise<{ url: string }>((resolve) =>
    child.once('message', (m) => resolve(m as { url: string })),
  );
  const idle = await ask<{ rss: number }>(child, 'rss');

  const clients: RPCClient[] = [];
  for (let i = 0; i < chargePoints; i += 50) {
    const batch = Array.from({ length: Math.min(50, chargePoints - i) }, (_, k) => {
      const client = new RPCClient({
        endpoint: url,
        identity: `BENCH-${i + k}`,
        protocols: ['ocpp1.6'],
        strictMode: true,
        reconnect: false,
      } as RpcOptions);
      clients.push(client);
      return client.connect();
    });
    await Promise.all(batch);
  }
  const connected = await ask<{ rss: number; connections: number }>(child, 'rss');

  // Warm-up, then fixed-rate schedules: latency is measured from the scheduled send, so a stall shows.
  for (let i = 0; i < 200; i++)
    await clients[i % clients.length].call('Authorize', { idTag: `TAG-${i % chargePoints}` });
  const authorize = await atFixedRate(rate, rate * seconds, async () => {
    const r = (await clients[Math.floor(Math.random() * chargePoints)].call('Authorize', {
      idTag: `TAG-${Math.floor(Math.random() * chargePoints)}`,
    })) as { idTagInfo: { status: string } };
    return r.idTagInfo.status === 'Accepted';
  });
  const after = await ask<{ rss: number }>(child, 'rss');

  // Each live session's charge point sends its register, rising, as fast as the schedule asks.
  const live = Math.min(sessions, chargePoints);
  const registers = new Array<number>(live).fill(0);
  const meterValues = await atFixedRate(meterRate, meterRate * seconds, async (n) => {
    const i = n % live;
    registers[i] += 100;
    await clients[i].call('MeterValues', {
      connectorId: 1,
      transactionId: i + 1,
      meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: String(registers[i]) }] }],
    });
    return true;
  });

  console.log(`charge points connected: ${connected.connections}`);
  report(`Authorize at ${rate}/s for ${seconds} s`, authorize, 10);
  report(`MeterValues at ${meterRate}/s over ${live} sessions for ${seconds} s`, meterValues, 100);
  console.log(
    `bridge RSS: ${mb(idle.rss)} MB idle, ${mb(connected.rss)} MB with ${connected.connections} connections (${((connected.rss - idle.rss) / 1024 / connected.connections).toFixed(1)} KB each), ${mb(after.rss)} MB after Authorize`,
  );

  await Promise.all(clients.map((c) => c.close({ code: 1000 })));
  const exited = new Promise((r) => child.once('exit', r));
  child.send('stop');
  await exited;
  await dropDatabase(dbUrl);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
