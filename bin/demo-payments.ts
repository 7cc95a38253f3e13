// Payments on the running local platform (npm start), through the REST API and the charge-point simulator:
//   1. a card session that fits its hold (50.00 by default policy);
//   2. a card session that outgrows a 5.00 hold: incremented at 80 %, then the rest above the raised hold
//      charged off-session with the saved card;
//   3. a prepaid-wallet session, topped up by card first.
// Each receipt is read back with how it was paid, next to the session's payment timeline.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, loadDotEnv } from '../config/env';
import type { DemoCredentials } from './seed-demo';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const demo = JSON.parse(readFileSync(path.join(config.dataDir, 'demo.json'), 'utf8')) as DemoCredentials;
  const api = `http://${config.host}:${config.apiPort}/api/v1/billing`;
  const call = async (method: string, p: string, body?: unknown, allow: number[] = []): Promise<Json> => {
    const res = await fetch(`${api}${p}`, {
      method,
      headers: { authorization: `Bearer ${demo.apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Json;
    if (res.status >= 400 && !allow.includes(res.status)) {
      throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json.error)}`);
    }
    return json;
  };
  const driver = async (name: string, idTag: string, userType: string) => {
    const existing = (await call('GET', `/id-tags?limit=100`)).data.find((t: Json) => t.id_tag === idTag);
    if (existing) return existing.user_id as string;
    const user = await call('POST', '/users', {
      email: `${idTag.toLowerCase()}@demo.example`,
      name,
      user_type: userType,
      payment_method_id: 'pm_card_visa',
      payment_customer_id: `cus_${idTag.replace(/[^A-Za-z0-9]/g, '')}`,
    });
    await call('POST', '/id-tags', { id_tag: idTag, user_id: user.id, type: 'rfid' });
    return user.id as string;
  };
  const simulate = (...args: string[]) => {
    const out = execFileSync(process.execPath, [path.join(__dirname, 'simulate.js'), ...args], {
      encoding: 'utf8',
    });
    const id = /"id": "(ses_[0-9A-Z]+)"/.exec(out)?.[1];
    if (!id) throw new Error(`the simulator printed no session:\n${out}`);
    return id;
  };
  const show = async (label: string, sessionId: string) => {
    const s = await call('GET', `/sessions/${sessionId}`);
    const timeline = await call('GET', `/sessions/${sessionId}/payment-timeline`);
    const r = s.receipt;
    const paid = (r.paid_with?.payments ?? [])
      .map((p: Json) => `${p.method}${p.brand ? ` ${p.brand} ••${p.last4}` : ''} ${p.amount}`)
      .join(' + ');
    console.log(`\n${label}: session ${sessionId}, receipt ${r.number}`);
    console.log(
      `  total ${r.total} ${r.currency}, paid ${r.amount_paid} (${paid || 'nothing'}), due ${r.amount_due}, ${r.payment_status}`,
    );
    for (const m of timeline.data as Json[]) {
      console.log(
        `  ${m.created_at}  ${m.kind.padEnd(20)} ${m.status.padEnd(10)} ${m.amount.padStart(7)} ${m.currency}  ${m.provider_reference ?? ''}`,
      );
    }
  };

  await call('PUT', '/hold-policies', { amount: '50.00', currency: 'EUR' });
  await show('1. fits its hold', simulate('--id-tag', demo.idTag));

  await call('POST', '/user-types', { name: 'small-hold' }, [400, 409]);
  await call('PUT', '/hold-policies', {
    user_type: 'small-hold',
    amount: '5.00',
    currency: 'EUR',
    increment_at_percent: 80,
  });
  await driver('Olga Outgrow', 'DEMO-OUTGROW', 'small-hold');
  // One sample at half time (15 kWh, 7.25: past 80 % of 5.00, so the hold goes to 10.00), then the final
  // reading: 30 kWh in 40 min costs 13.50, 3.50 more than the raised hold.
  await show(
    '2. outgrows its hold',
    simulate(
      '--id-tag',
      'DEMO-OUTGROW',
      '--kwh',
      '30',
      '--minutes',
      '40',
      '--samples',
      '1',
      '--pause-ms',
      '2500',
    ),
  );

  const wendy = await driver('Wendy Wallet', 'DEMO-WALLET', 'public');
  await call('PUT', `/users/${wendy}/payment-mode`, { mode: 'wallet' });
  await call('POST', `/users/${wendy}/wallet/top-ups`, { amount: '20.00' });
  const before = await call('GET', `/users/${wendy}/wallet`);
  await show('3. prepaid wallet', simulate('--id-tag', 'DEMO-WALLET'));
  const after = await call('GET', `/users/${wendy}/wallet`);
  console.log(`  wallet balance ${before.balance} -> ${after.balance} ${after.currency}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
