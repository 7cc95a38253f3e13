// Closing one month for an organization with many postpaid sessions: the time and peak memory of
// issueInvoice (lines, credit notes, totals, gapless number, PDF, outbox, in one transaction), next to a raw
// SQL aggregate over the same receipt lines in the same run.
// Target: under 10 s for 100,000 sessions, and at most 3 x the raw aggregate.
// Usage: npm run bench:invoice -- [sessions=100000]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, dropDatabase, ensureDatabase, migrateLatest } from '../db/knex';
import { periodBounds } from '../pricing/calendar-months';
import { issueInvoice } from '../db/repositories/invoices';
import { renderPdf } from '../documents/pdf';
import { Dec } from '../pricing/money';
import { seedDemo } from '../bin/seed-demo';

const PERIOD = '2026-10';

async function main(): Promise<void> {
  const sessions = Number(process.argv[2] ?? 100_000);
  const url = `${process.env.BENCH_DATABASE_SERVER || 'postgres://postgres@127.0.0.1:5432'}/ev_billing_bench_invoice`;
  await dropDatabase(url);
  await ensureDatabase(url);
  const db = createDb(url, { min: 1, max: 4 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-invoice-'));
  try {
    await migrateLatest(db);
    const demo = await seedDemo(db, dir);
    const cp = await db('charge_points').where({ identity: demo.chargePointIdentity }).first();
    const org = await db('organizations').where({ id: cp.organization_id }).first();
    const { start, end } = periodBounds(org.time_zone, PERIOD);
    const span = end.getTime() - start.getTime();

    const t0 = performance.now();
    // Sessions spread over the month, each with a receipt of three lines at two VAT rates, nothing paid.
    await db.raw(
      `INSERT INTO charging_sessions (id, organization_id, charge_point_id, connector_id, transaction_id, id_tag,
         status, meter_start_wh, meter_stop_wh, energy_wh, currency, total_amount, started_at, stopped_at, workflow_id)
       SELECT 'ses_b' || lpad(g::text, 9, '0'), ?, ?, 1 + g % 4, 1000000 + g, 'BENCH', 'completed', 0, 12345, 12345,
              'EUR', 5.98, to_timestamp(? + (g::float8 / ?) * ?), to_timestamp(? + (g::float8 / ?) * ? + 1800),
              'bench:' || g
       FROM generate_series(1, ?) g`,
      [
        org.id,
        cp.id,
        start.getTime() / 1000,
        sessions + 1,
        span / 1000 - 3600,
        start.getTime() / 1000,
        sessions + 1,
        span / 1000 - 3600,
        sessions,
      ],
    );
    await db.raw(
      `INSERT INTO receipts (id, number, organization_id, session_id, currency, total, total_excl_vat, total_vat,
         amount_paid, amount_due, payment_status)
       SELECT 'rcpt_b' || lpad(g::text, 9, '0'), 'B-' || g, ?, 'ses_b' || lpad(g::text, 9, '0'), 'EUR',
              5.98, 5.05, 0.93, 0, 5.98, 'unpaid'
       FROM generate_series(1, ?) g`,
      [org.id, sessions],
    );
    await db.raw(
      `INSERT INTO receipt_lines (receipt_id, position, component, description, quantity, unit, unit_price, amount,
         kind, vat_rate, vat_amount, amount_incl_vat)
       SELECT 'rcpt_b' || lpad(g::text, 9, '0'), p, c, c, 1, 'x', a, a, 'rated', r, v, a + v
       FROM generate_series(1, ?) g,
            (VALUES (1, 'energy', 4.81, 19, 0.91), (2, 'time', 0.10, 19, 0.02), (3, 'parking', 0.14, 0, 0)) AS l(p, c, a, r, v)`,
      [sessions],
    );
    await db.raw('ANALYZE');
    console.log(
      `seeded ${sessions} sessions with receipts in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    // The raw aggregate: what any invoice needs to read, and nothing else.
    const r0 = performance.now();
    const raw = await db.raw(
      `SELECT rl.vat_rate, count(DISTINCT s.id) AS sessions, sum(rl.amount) AS net, sum(rl.vat_amount) AS vat,
              sum(rl.amount_incl_vat) AS gross
       FROM charging_sessions s JOIN receipts r ON r.session_id = s.id JOIN receipt_lines rl ON rl.receipt_id = r.id
       WHERE s.organization_id = ? AND r.amount_due > 0 AND s.stopped_at < ?
       GROUP BY rl.vat_rate`,
      [org.id, end],
    );
    const rawMs = performance.now() - r0;

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const rssBefore = process.memoryUsage().rss;
    const i0 = performance.now();
    const invoice = await issueInvoice(db, {
      organizationId: org.id,
      timeZone: org.time_zone,
      currency: 'EUR',
      period: PERIOD,
      issuedAt: new Date(),
      paymentTermDays: 14,
      render: (inv, lines) =>
        renderPdf({
          kind: 'invoice',
          number: inv.number!,
          issuedAt: inv.issuedAt!,
          timeZone: org.time_zone,
          currency: inv.currency,
          seller: { name: 'Bench Operator', address: [] },
          buyer: { name: org.name, address: [] },
          references: [{ label: 'Period', value: PERIOD }],
          lines: lines.map((l) => ({
            description: l.description,
            quantity: l.quantity,
            amountExclVat: l.amount,
            vatRate: l.vatRate ?? '0',
            vatAmount: l.vatAmount,
          })),
          notes: [],
        }),
    });
    const closeMs = performance.now() - i0;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    const rawTotal = raw.rows.reduce((sum: Dec, r: { gross: string }) => sum.add(r.gross), new Dec(0));
    console.log(
      `raw SQL aggregate over the same rows: ${rawMs.toFixed(0)} ms (${raw.rows.length} VAT rates)`,
    );
    console.log(
      `issueInvoice: ${invoice.number}, ${invoice.sessionCount} sessions, total ${invoice.total} EUR in ` +
        `${(closeMs / 1000).toFixed(2)} s = ${(closeMs / rawMs).toFixed(1)} x the raw aggregate ` +
        `(targets: < 10 s: ${closeMs < 10_000 ? 'met' : 'NOT met'}; <= 3 x: ${closeMs <= 3 * rawMs ? 'met' : 'NOT met'})`,
    );
    console.log(
      `memory: RSS ${(rssBefore / 2 ** 20).toFixed(0)} MB before, peak ${(peakRss / 2 ** 20).toFixed(0)} MB ` +
        `(+${((peakRss - rssBefore) / 2 ** 20).toFixed(0)} MB)`,
    );
    console.log(
      `invoice total equals the raw aggregate's: ${rawTotal.eq(invoice.total) ? 'yes' : 'NO'} (${rawTotal})`,
    );
  } finally {
    await db.destroy();
    if (!process.env.BENCH_KEEP_DATABASE) await dropDatabase(url);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
