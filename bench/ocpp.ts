// Authorize round trips with many connected charge points, and the bridge's memory per connection.
// The bridge runs in a child process (bench/ocpp-bridge.ts) with the entitlement cache over PostgreSQL;
// strict ocpp-rpc clients in this process connect without passwords (a scrypt check per connection would
// only slow the set-up) and send Authorize at a fixed rate from random charge points.
// Targets: p99 < 10 ms at 200 Authorize/s with 1,000 charge points connected.
// Usage: npm run build && node dist/bench/ocpp.js [chargePoints=1000] [authorizePerSecond=200] [seconds=15]
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

async function seed(dbUrl: string, chargePoints: number): Promise<void> {
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
  const [chargePoints = 1000, rate = 200, seconds = 15] = process.argv.slice(2).map(Number);
  const dbUrl = `postgres://postgres@127.0.0.1:5432/ev_billing_bench_ocpp_${process.pid}`;
  await seed(dbUrl, chargePoints);
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

  // Warm-up, then a fixed-rate schedule: latency is measured from the scheduled send, so a stall shows.
  for (let i = 0; i < 200; i++)
    await clients[i % clients.length].call('Authorize', { idTag: `TAG-${i % chargePoints}` });
  const latencies: number[] = [];
  let refused = 0;
  const total = rate * seconds;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; sent < due; sent++) {
        const i = Math.floor(Math.random() * chargePoints);
        const t0 = performance.now();
        clients[i]
          .call('Authorize', { idTag: `TAG-${Math.floor(Math.random() * chargePoints)}` })
          .then((r) => {
            if ((r as { idTagInfo: { status: string } }).idTagInfo.status !== 'Accepted') refused++;
            latencies.push(performance.now() - t0);
          })
          .catch(() => refused++)
          .finally(() => {
            if (++done === total) resolve();
          });
      }
      if (sent === total) clearInterval(tick);
    }, 2);
  });
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const after = await ask<{ rss: number }>(child, 'rss');

  console.log(`charge points connected: ${connected.connections}`);
  console.log(
    `Authorize at ${rate}/s for ${seconds} s: ${latencies.length} answered in ${elapsed.toFixed(1)} s, ${refused} not Accepted`,
  );
  console.log(
    `  round trip p50 ${pct(latencies, 0.5).toFixed(2)} ms, p99 ${pct(latencies, 0.99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms (target p99 < 10 ms: ${pct(latencies, 0.99) < 10 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `bridge RSS: ${mb(idle.rss)} MB idle, ${mb(connected.rss)} MB with ${connected.connections} connections (${((connected.rss - idle.rss) / 1024 / connected.connections).toFixed(1)} KB each), ${mb(after.rss)} MB after the run`,
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
