// The billing processes on the running local platform (npm start), through the REST API only:
//   1. the admin asks to waive the card driver's latest session; the billing delegate approves; the refund
//      is issued once and a credit note e-mailed;
//   2. the billing delegate closes this month's invoice now; the invoice is issued, its PDF downloaded to
//      DATA_DIR and e-mailed to the billing contact (see the local inbox).
// Run `npm run simulate` (card driver) and `npm run simulate -- --id-tag DEMO-FLEET-1` (postpaid) first.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, loadDotEnv } from '../config/env';
import type { DemoCredentials } from './seed-demo';
import { periodOf } from '../pricing/calendar-months';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const demo = JSON.parse(readFileSync(path.join(config.dataDir, 'demo.json'), 'utf8')) as DemoCredentials;
  if (!demo.adminApiKey || !demo.billingApiKey)
    throw new Error('demo.json has no member keys: run npm start once');
  const api = `http://${config.host}:${config.apiPort}/api/v1/billing`;
  const call = async (key: string, method: string, p: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${api}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Json;
    if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json.error)}`);
    return json;
  };
  const until = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 120; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  // 1. An exemption on the card driver's latest billed session.
  const sessions = (await call(demo.apiKey, 'GET', '/sessions?status=completed&limit=100')).data as Json[];
  const paid = sessions.filter((s) => s.payment?.status === 'captured' && !s.exemption).at(-1);
  if (paid) {
    const requested = await call(demo.adminApiKey, 'POST', `/sessions/${paid.id}/exemptions`, {
      reason: 'Demo: the charger delivered power intermittently',
    });
    console.log(
      `exemption ${requested.id} requested by the admin for session ${paid.id} (${paid.total_amount} EUR)`,
    );
    const approved = await call(demo.billingApiKey, 'POST', `/exemptions/${requested.id}/approve`, {
      note: 'Demo',
    });
    console.log(`approved by the billing delegate: ${approved.status}`);
    const done = await until('the refund', async () => {
      const e = await call(demo.apiKey, 'GET', `/exemptions/${requested.id}`);
      return e.credit_note ? e : undefined;
    });
    console.log(
      `reversal ${done.reversal} ${done.amount_reversed} EUR, refund ${done.refund_id}, credit note ${done.credit_note.number}`,
    );
  } else {
    console.log('no card-paid session to exempt: run `npm run simulate` first');
  }

  // 2. This month's invoice, closed now.
  const org = await call(demo.apiKey, 'GET', `/organizations/${demo.organizationId}`);
  const period = periodOf(org.time_zone, new Date());
  const close = await call(
    demo.billingApiKey,
    'POST',
    `/organizations/${demo.organizationId}/invoices/close`,
    {
      period,
      now: true,
    },
  );
  console.log(`closing ${period}: workflow ${close.workflow_id}`);
  const invoice = await until('the invoice', async () => {
    const list = await call(
      demo.apiKey,
      'GET',
      `/organizations/${demo.organizationId}/invoices?period=${period}`,
    );
    return (list.data as Json[]).find((i) => i.status !== 'draft' && i.status !== 'void');
  });
  console.log(
    `invoice ${invoice.number} ${invoice.status}: ${invoice.session_count} sessions, total ${invoice.total_amount} ` +
      `${invoice.currency}, payable ${invoice.amount_payable}`,
  );
  const pdf = await fetch(`${api}/invoices/${invoice.id}/download`, {
    headers: { authorization: `Bearer ${demo.apiKey}` },
  });
  const file = path.join(config.dataDir, `${invoice.number}.pdf`);
  writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
  console.log(`PDF: ${file} (${pdf.headers.get('content-type')})`);
  console.log(`e-mails: http://127.0.0.1:${config.mailWebPort} (invoice to ${org.billing_contact.email})`);
  console.log('workflows and the monthly schedule: http://127.0.0.1:8233 (Workflows, Schedules)');
}

main().catch((err) => {
  console.error('demo failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
