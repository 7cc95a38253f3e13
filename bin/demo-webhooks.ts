// Accounting webhooks and reconciliation on the running local platform (npm start), through the REST API:
//   1. registers a webhook endpoint served by the example receiver (bin/webhook-receiver.ts, in this
//      process), runs one simulated session and shows its signed session.completed and receipt.issued;
//   2. refunds 1.00 of it at Stripe (the local fake, as a dashboard refund would): Stripe's charge.refunded
//      webhook reaches the platform and comes out as refund.created;
//   3. reconciles today against Stripe (no difference expected), then seeds a dispute at Stripe and
//      reconciles again (the dispute and its fee are reported).
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import { loadConfig, loadDotEnv } from '../config/env';
import type { EventEnvelope } from '../events/types';
import { createExampleReceiver } from '../webhooks/example-receiver';
import type { DemoCredentials } from './seed-demo';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const demo = JSON.parse(readFileSync(path.join(config.dataDir, 'demo.json'), 'utf8')) as DemoCredentials;
  if (!demo.billingApiKey) throw new Error('demo.json has no member keys: run npm start once');
  const api = `http://${config.host}:${config.apiPort}/api/v1/billing`;
  const call = async (method: string, p: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${api}${p}`, {
      method,
      headers: { authorization: `Bearer ${demo.billingApiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Json;
    if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json.error)}`);
    return json;
  };
  const booked: EventEnvelope[] = [];
  const until = async <T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 120; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  // 1. The example receiver, registered through the API.
  const secrets: string[] = [];
  const receiver = http.createServer(
    createExampleReceiver({
      secrets,
      onEvent: (e) => booked.push(e),
      log: (line) => console.log(`  receiver: ${line}`),
    }),
  );
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/books`;
  const endpoint = await call('POST', '/webhook-endpoints', {
    url,
    enabled_events: ['*'],
    description: 'demo:webhooks example receiver',
  });
  secrets.push(endpoint.secret);
  console.log(`endpoint ${endpoint.id} registered for ${url} (secret ${endpoint.secret.slice(0, 12)}…)`);

  console.log('simulating one session (npm run simulate):');
  const out = execFileSync(process.execPath, [path.join(__dirname, 'simulate.js')], { encoding: 'utf8' });
  const sessionId = /"id": "(ses_[0-9A-Z]+)"/.exec(out)?.[1];
  if (!sessionId) throw new Error(`the simulator printed no session:\n${out}`);
  const completed = await until('session.completed', () =>
    booked.find((e) => e.type === 'session.completed' && e.data.object_id === sessionId),
  );
  const receipt = await until('receipt.issued', () =>
    booked.find((e) => e.type === 'receipt.issued' && e.data.object['session_id'] === sessionId),
  );
  console.log(
    `session ${sessionId}: session.completed (${(completed.data.object['lines'] as unknown[]).length} priced lines, ` +
      `total ${completed.data.object['total']}) and receipt.issued ${receipt.data.object['number']} arrived signed`,
  );

  // 2. A refund made at Stripe, not by the platform.
  const session = await call('GET', `/sessions/${sessionId}`);
  const stripeBase = new URL(
    process.env.STRIPE_API_BASE || `http://127.0.0.1:${process.env.FAKE_STRIPE_PORT || 12111}`,
  );
  const stripe = new Stripe(config.stripeSecretKey, {
    host: stripeBase.hostname,
    port: Number(stripeBase.port),
    protocol: stripeBase.protocol === 'https:' ? 'https' : 'http',
  });
  const refund = await stripe.refunds.create({
    payment_intent: session.payment.provider_payment_id,
    amount: 100,
  });
  console.log(`refunded 1.00 at Stripe: ${refund.id} (Stripe sends charge.refunded to the platform)`);
  const refunded = await until('refund.created', () =>
    booked.find((e) => e.type === 'refund.created' && e.data.object['provider_refund_id'] === refund.id),
  );
  console.log(
    `refund.created ${refunded.data.object_id}: ${refunded.data.object['amount']} ${refunded.data.object['currency']}, source ${refunded.data.object['source']}`,
  );

  // 3. Reconciliation of today, clean and then with a dispute seeded at Stripe.
  const org = await call('GET', `/organizations/${demo.organizationId}`);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: org.time_zone }).format(new Date());
  const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const reconcile = async () => {
    const report = await call('POST', '/reconciliations', { from: today, to: tomorrow });
    console.log(
      `reconciliation ${report.id} ${today}: ${report.difference_count} difference(s) ${JSON.stringify(report.differences_by_kind)}; ` +
        `gross ${report.totals.gross_revenue}, refunds ${report.totals.refunds}, fees ${report.totals.processing_fees}, ` +
        `disputes ${report.totals.disputes}, net settled ${report.totals.net_settled} ${report.currency}`,
    );
    return report;
  };
  await reconcile();
  const dispute = (await (
    await fetch(`${stripeBase.origin}/_fake/disputes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payment_intent: session.payment.provider_payment_id, reason: 'fraudulent' }),
    })
  ).json()) as Json;
  console.log(`seeded a dispute at Stripe: ${dispute.id} on ${session.payment.provider_payment_id}`);
  await until('dispute.opened', () => booked.find((e) => e.type === 'dispute.opened'));
  const report = await reconcile();
  const differences = await call('GET', `/reconciliations/${report.id}/differences`);
  for (const d of differences.data as Json[]) {
    console.log(
      `  ${d.kind}: ${d.detail} (platform ${d.platform_amount ?? '-'}, provider ${d.provider_amount ?? '-'})`,
    );
  }
  console.log(`CSV: GET ${api}/reconciliations/${report.id}/download`);
  receiver.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
