import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { periodOf } from '../../pricing/calendar-months';
import { Dec } from '../../pricing/money';
import type { TariffDefinition } from '../../pricing/model';
import { BILLING_KIND, BILLING_PERIOD, BILLING_STATUS } from '../../workflows/search-attributes';
import { Json, tableCounts } from '../api/helpers';
import { useBillingStack } from '../support/billing-stack';

// Revenue sharing on the real Temporal dev server and PostgreSQL, driven through the REST API: a building
// owner (paid by Stripe Connect transfer) and the operator (paid by bank transfer) share a site's revenue
// 70/30 with a minimum payout of 10.00 EUR, month after month.

// 19 % VAT on every component: the shared base is the revenue excluding it. 10 kWh in 30 minutes is
// 1.00 + 3.50 + 1.50 = 6.00 net (7.15 with VAT, rounded per line); 40 kWh in 30 minutes is 16.50 net.
const WITH_VAT: TariffDefinition = {
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: '1.00', vat: '19', step_size: 1 },
        { type: 'ENERGY', price: '0.35', vat: '19', step_size: 1 },
        { type: 'TIME', price: '3.00', vat: '19', step_size: 1 },
      ],
    },
  ],
};

const stack = useBillingStack('payouts', 'integration-payouts', { definition: WITH_VAT });
const { as } = stack;
const db = () => stack.tdb.db;

const scope = { projectId: '', siteId: '' };
const parties = { owner: '', operator: '' };

async function createParty(body: object): Promise<string> {
  const res = await as('admin')('POST', '/revenue-parties', body);
  expect(res.status).toBe(201);
  return res.body.id;
}

async function createRule(body: object): Promise<Json> {
  const res = await as('admin')('POST', '/revenue-share-rules', body);
  expect(res.status).toBe(201);
  return res.body;
}

async function payout(partyId: string, period: string) {
  const res = await as('billing')('POST', `/revenue-parties/${partyId}/payouts`, { period });
  expect(res.status).toBe(202);
  expect(res.body.workflow_id).toBe(`payout:${partyId}:${period}`);
  return stack.env.client.workflow.getHandle(res.body.workflow_id).result();
}

async function statement(partyId: string, period: string): Promise<Json> {
  const res = await as('owner')('GET', `/revenue-statements?party_id=${partyId}&period=${period}`);
  expect(res.status).toBe(200);
  expect(res.body.data).toHaveLength(1);
  return res.body.data[0];
}

const figures = (s: Json) => ({
  carried_in: s.carried_in,
  base_amount: s.base_amount,
  adjustments: s.adjustments,
  balance: s.balance,
  minimum_payout: s.minimum_payout,
  payout_amount: s.payout_amount,
  carried_out: s.carried_out,
});

async function net(sessionId: string): Promise<{ net: string; gross: string }> {
  const r = await db()('receipts').where({ session_id: sessionId }).first('total_excl_vat', 'total');
  return { net: new Dec(r.total_excl_vat).toFixed(2), gross: new Dec(r.total).toFixed(2) };
}

beforeAll(async () => {
  expect(
    (await as('owner')('PATCH', `/organizations/${stack.fx.organizationId}`, { time_zone: 'Europe/Berlin' }))
      .status,
  ).toBe(200);
  const cp = await db()('charge_points').where({ id: stack.fx.chargePointId }).first('site_id');
  const site = await db()('sites').where({ id: cp.site_id }).first('project_id');
  scope.siteId = cp.site_id;
  scope.projectId = site.project_id;
});

describe('payout workflow', () => {
  it('carries a balance below the minimum, pays once by transfer or bank export, and takes a refund after a payout off the next statements', async () => {
    parties.owner = await createParty({ name: 'Building owner', connected_account_id: 'acct_1OwnerTest' });
    parties.operator = await createParty({ name: 'Operator', iban: 'DE89 3704 0044 0532 0130 00' });
    const { owner, operator } = parties;
    // The project's rule is overridden by the site's: all the sessions below go 70/30.
    await createRule({
      project_id: scope.projectId,
      minimum_payout: '5',
      effective_from: '2026-06',
      splits: [
        { party_id: owner, percent: 50 },
        { party_id: operator, percent: 50 },
      ],
    });
    const siteRule = await createRule({
      site_id: scope.siteId,
      currency: 'EUR',
      minimum_payout: '10.00',
      effective_from: '2026-06',
      splits: [
        { party_id: owner, percent: '70' },
        { party_id: operator, percent: 30 },
      ],
    });
    expect(siteRule).toMatchObject({
      object: 'revenue_share_rule',
      id: expect.stringMatching(/^rss_/),
      site_id: scope.siteId,
      project_id: null,
      currency: 'EUR',
      minimum_payout: '10.00',
      effective_from: '2026-06',
      active: true,
      splits: [
        { party_id: owner, percent: '70' },
        { party_id: operator, percent: '30' },
      ],
    });

    // May: before the rules took effect, never shared. June: 6.00 net, below the minimum for both.
    const may = await stack.billedSession({ stoppedAt: new Date('2026-05-20T10:00:00Z') });
    const june = await stack.billedSession({ stoppedAt: new Date('2026-06-15T10:00:00Z') });
    expect(await net(june.sessionId)).toEqual({ net: '6.00', gross: '7.15' });
    const [ownerJune, operatorJune] = await Promise.all([
      payout(owner, '2026-06'),
      payout(operator, '2026-06'),
    ]);
    expect(ownerJune).toMatchObject({ status: 'none', payoutId: null, payoutAmount: '0', carriedOut: '4.2' });
    expect(operatorJune).toMatchObject({ status: 'none', payoutId: null });
    const ownerJuneStatement = await statement(owner, '2026-06');
    expect(ownerJuneStatement).toMatchObject({
      object: 'revenue_statement',
      id: expect.stringMatching(/^stmt_/),
      currency: 'EUR',
      lines: [{ rule_id: siteRule.id, kind: 'base', rule_amount: '6.00', percent: '70', amount: '4.20' }],
    });
    expect(figures(ownerJuneStatement)).toEqual({
      carried_in: '0.00',
      base_amount: '4.20',
      adjustments: '0.00',
      balance: '4.20',
      minimum_payout: '10.00',
      payout_amount: '0.00',
      carried_out: '4.20',
    });
    expect(figures(await statement(operator, '2026-06'))).toMatchObject({
      base_amount: '1.80',
      carried_out: '1.80',
    });
    expect((await as('owner')('GET', '/payouts')).body.data).toEqual([]);

    // July: 2 × 16.50 = 33.00 net. The owner's 23.10 and 4.20 carried pass the minimum and go by transfer,
    // whose first answer is lost to a timeout: the activity's retry replays it, and the money moves once.
    const julyA = await stack.billedSession({ stoppedAt: new Date('2026-07-10T10:00:00Z'), wh: 40_000 });
    await stack.billedSession({ stoppedAt: new Date('2026-07-20T10:00:00Z'), wh: 40_000 });
    expect(await net(julyA.sessionId)).toEqual({ net: '16.50', gross: '19.64' });
    stack.running.fake.failNext({ pathPrefix: '/v1/transfers', status: 200, delayMs: 1500 });
    const ownerJuly = await payout(owner, '2026-07');
    expect(ownerJuly).toMatchObject({
      status: 'paid',
      method: 'transfer',
      payoutAmount: '27.3',
      carriedOut: '0',
      providerTransferId: expect.stringMatching(/^tr_/),
    });
    const transfers = stack.running.fake.listTransfers();
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({
      id: ownerJuly.providerTransferId,
      amount: 2730,
      currency: 'eur',
      destination: 'acct_1OwnerTest',
      metadata: { party_id: owner, period: '2026-07', payout_id: ownerJuly.payoutId },
    });
    const transferCalls = stack.running.fake.requests().filter((r) => r.path === '/v1/transfers');
    expect(transferCalls.map((r) => [r.idempotencyKey, r.replayed])).toEqual([
      [`payout:${owner}:2026-07`, false],
      [`payout:${owner}:2026-07`, true],
    ]);
    expect(figures(await statement(owner, '2026-07'))).toEqual({
      carried_in: '4.20',
      base_amount: '23.10',
      adjustments: '0.00',
      balance: '27.30',
      minimum_payout: '10.00',
      payout_amount: '27.30',
      carried_out: '0.00',
    });

    // The operator has no connected account: its 9.90 + 1.80 waits for the bank-transfer export.
    const operatorJuly = await payout(operator, '2026-07');
    expect(operatorJuly).toMatchObject({ status: 'pending', method: 'bank_export', payoutAmount: '11.7' });
    const exported = (await as('owner')('GET', '/payouts?method=bank_export&status=pending')).body.data;
    expect(exported).toEqual([
      expect.objectContaining({
        object: 'payout',
        id: operatorJuly.payoutId,
        party_id: operator,
        period: '2026-07',
        amount: '11.70',
        currency: 'EUR',
        method: 'bank_export',
        destination: 'DE89370400440532013000',
        status: 'pending',
        provider_transfer_id: null,
      }),
    ]);
    expect(stack.running.fake.listTransfers()).toHaveLength(1);

    // The run that paid July (kept for the replay test below), and its search attributes.
    const description = await stack.env.client.workflow.getHandle(`payout:${owner}:2026-07`).describe();
    expect(description.typedSearchAttributes.get(BILLING_STATUS)).toBe('paid');
    expect(description.typedSearchAttributes.get(BILLING_KIND)).toBe('payout');
    expect(description.typedSearchAttributes.get(BILLING_PERIOD)).toBe('2026-07');
    const paidRun = stack.env.client.workflow.getHandle(`payout:${owner}:2026-07`, description.runId);

    // Running July again answers the same statement and payout, and transfers nothing.
    const again = await payout(owner, '2026-07');
    expect(again).toEqual(ownerJuly);
    expect(stack.running.fake.listTransfers()).toHaveLength(1);

    // A July session is refunded in full after the payout: 16.50 net comes off August's statements, split
    // 70/30 like the session was, and the negative balances carry.
    const exm = await as('admin')('POST', `/sessions/${julyA.sessionId}/exemptions`, {
      reason: 'Faulty charger',
    });
    expect(exm.status).toBe(201);
    expect((await as('billing')('POST', `/exemptions/${exm.body.id}/approve`, {})).status).toBe(200);
    await stack.env.client.workflow.getHandle(`exemption:${exm.body.id}`).result();
    expect((await as('owner')('GET', `/exemptions/${exm.body.id}`)).body).toMatchObject({
      reversal: 'refunded',
    });

    await stack.billedSession({ stoppedAt: new Date('2026-08-12T10:00:00Z') });
    await Promise.all([payout(owner, '2026-08'), payout(operator, '2026-08')]);
    const ownerAugust = await statement(owner, '2026-08');
    expect(figures(ownerAugust)).toEqual({
      carried_in: '0.00',
      base_amount: '4.20',
      adjustments: '-11.55',
      balance: '-7.35',
      minimum_payout: '10.00',
      payout_amount: '0.00',
      carried_out: '-7.35',
    });
    expect(ownerAugust.lines).toEqual([
      { rule_id: siteRule.id, kind: 'base', rule_amount: '6.00', percent: '70', amount: '4.20' },
      { rule_id: siteRule.id, kind: 'adjustment', rule_amount: '-16.50', percent: '70', amount: '-11.55' },
    ]);
    expect(figures(await statement(operator, '2026-08'))).toMatchObject({
      adjustments: '-4.95',
      balance: '-3.15',
      carried_out: '-3.15',
    });

    // September: 33.00 net again. The owner's 23.10 less the 7.35 it carries is paid; the operator's 9.90
    // less 3.15 is below the minimum and carries.
    await stack.billedSession({ stoppedAt: new Date('2026-09-03T10:00:00Z'), wh: 40_000 });
    await stack.billedSession({ stoppedAt: new Date('2026-09-30T21:30:00Z'), wh: 40_000 }); // 23:30 in Berlin
    const ownerSeptember = await payout(owner, '2026-09');
    expect(ownerSeptember).toMatchObject({ status: 'paid', payoutAmount: '15.75' });
    expect(figures(await statement(owner, '2026-09'))).toMatchObject({
      carried_in: '-7.35',
      base_amount: '23.10',
      balance: '15.75',
      payout_amount: '15.75',
    });
    expect(await payout(operator, '2026-09')).toMatchObject({ status: 'none', carriedOut: '6.75' });
    expect(stack.running.fake.listTransfers().map((t) => t.amount)).toEqual([2730, 1575]);
    const paid = (await as('owner')('GET', `/payouts?party_id=${owner}&status=paid`)).body.data;
    expect(paid.map((p: Json) => [p.period, p.amount, p.method])).toEqual([
      ['2026-07', '27.30', 'transfer'],
      ['2026-09', '15.75', 'transfer'],
    ]);

    // The May session was never shared, and May can no longer be settled: its sessions would have gone on
    // a later statement had a rule applied.
    expect(
      await db()('revenue_shared_sessions').where({ session_id: may.sessionId }).first(),
    ).toBeUndefined();
    const before = await tableCounts(db());
    const late = await as('billing')('POST', `/revenue-parties/${owner}/payouts`, { period: '2026-05' });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'period_out_of_order', param: 'period' });
    expect(await tableCounts(db())).toEqual(before);

    // The history recorded for the replay test: a transfer retried after a lost answer.
    const history = await paidRun.fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
    if (process.env.RECORD_HISTORY) {
      const file = path.join(__dirname, '../replay/histories/payout-v1.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
  });

  it('splits an odd amount between three parties so the parts add up exactly', async () => {
    const [c, d, e] = [
      await createParty({ name: 'Owner C', connected_account_id: 'acct_1OwnerC' }),
      await createParty({ name: 'Owner D' }),
      await createParty({ name: 'Owner E' }),
    ];
    // Replaces the site's 70/30 rule from October on.
    const rule = await createRule({
      site_id: scope.siteId,
      effective_from: '2026-10',
      splits: [
        { party_id: c, percent: '33.3333' },
        { party_id: d, percent: '33.3333' },
        { party_id: e, percent: '33.3334' },
      ],
    });
    // 10.03 kWh: the energy line 3.5105 is rounded to 3.51, so each session is 6.01 net: 12.02 in all.
    for (const at of ['2026-10-05T10:00:00Z', '2026-10-06T10:00:00Z']) {
      const s = await stack.billedSession({ stoppedAt: new Date(at), wh: 10_030 });
      expect((await net(s.sessionId)).net).toBe('6.01');
    }
    // C's transfer is refused (its account cannot receive transfers yet): the payout is failed and the
    // workflow fails; running the month again tries once more under a new key, and pays.
    stack.running.fake.failNext({
      method: 'POST',
      pathPrefix: '/v1/transfers',
      status: 400,
      code: 'account_invalid',
      message: 'The destination account cannot receive transfers.',
    });
    await expect(payout(c, '2026-10')).rejects.toMatchObject({
      cause: { cause: { type: 'TransferRefused' } },
    });
    const refused = (await as('owner')('GET', `/payouts?party_id=${c}`)).body.data;
    expect(refused).toEqual([
      expect.objectContaining({
        status: 'failed',
        amount: '4.01',
        failure_message: expect.stringContaining('cannot receive transfers'),
      }),
    ]);
    const failedRun = await stack.env.client.workflow.getHandle(`payout:${c}:2026-10`).describe();
    expect(failedRun.typedSearchAttributes.get(BILLING_STATUS)).toBe('failed');
    const results = await Promise.all([c, d, e].map((p) => payout(p, '2026-10')));
    expect(stack.running.fake.listTransfers().at(-1)).toMatchObject({
      amount: 401,
      destination: 'acct_1OwnerC',
    });
    expect(
      stack.running.fake
        .requests()
        .filter((r) => r.path === '/v1/transfers')
        .slice(-2)
        .map((r) => [r.idempotencyKey, r.status]),
    ).toEqual([
      [`payout:${c}:2026-10`, 400],
      [`payout:${c}:2026-10:1`, 200],
    ]);
    const statements = await Promise.all([c, d, e].map((p) => statement(p, '2026-10')));
    // 1202 cents: 400.666… for C and D, 400.667… for E; the two cents left go to E (largest fraction), then C
    // (equal to D's, listed first).
    expect(statements.map((s) => s.base_amount)).toEqual(['4.01', '4.00', '4.01']);
    expect(statements.map((s) => s.lines[0].rule_amount)).toEqual(['12.02', '12.02', '12.02']);
    expect(statements.every((s) => s.lines[0].rule_id === rule.id)).toBe(true);
    const all = (await as('owner')('GET', '/revenue-statements?period=2026-10&limit=100')).body.data;
    expect(all.reduce((sum: Dec, s: Json) => sum.add(s.base_amount), new Dec(0)).toFixed(2)).toBe('12.02');
    // No minimum: each part is paid out, C's by transfer, D's and E's by bank export.
    expect(results.map((r) => [r.status, r.method, r.payoutAmount])).toEqual([
      ['paid', 'transfer', '4.01'],
      ['pending', 'bank_export', '4'],
      ['pending', 'bank_export', '4.01'],
    ]);
    // The old rule is kept, inactive: sessions shared under it keep its splits for later refunds.
    const rules = (await as('owner')('GET', `/revenue-share-rules?site_id=${scope.siteId}`)).body.data;
    expect(rules.map((r: Json) => r.active)).toEqual([false, true]);
  });

  it('answers bad input with a clear error and writes nothing', async () => {
    // A rule of its own, on a second site without sessions.
    const project = (await as('admin')('POST', '/projects', { name: 'Depot' })).body;
    const site = (
      await as('admin')('POST', '/sites', {
        project_id: project.id,
        name: 'Depot 1',
        time_zone: 'Europe/Berlin',
      })
    ).body;
    const a = await createParty({ name: 'Party A', connected_account_id: 'acct_1PartyA' });
    const b = await createParty({ name: 'Party B' });
    await createRule({
      site_id: site.id,
      splits: [
        { party_id: a, percent: 60 },
        { party_id: b, percent: 40 },
      ],
    });
    const rule = (splits: unknown, extra: object = {}) => ({ site_id: site.id, splits, ...extra });
    const both = [
      { party_id: a, percent: 50 },
      { party_id: b, percent: 50 },
    ];
    const current = periodOf('Europe/Berlin', new Date());

    const before = await tableCounts(db());
    const cases: [string, string, string, unknown, number, string | null][] = [
      // Splits over 100 %, under 100 %, out of range, negative, duplicate or unknown parties.
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([
          { party_id: a, percent: 70 },
          { party_id: b, percent: 40 },
        ]),
        400,
        'splits',
      ],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([
          { party_id: a, percent: '33.3333' },
          { party_id: b, percent: '66.6666' },
        ]),
        400,
        'splits',
      ],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([
          { party_id: a, percent: 110 },
          { party_id: b, percent: -10 },
        ]),
        400,
        'splits[0].percent',
      ],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([
          { party_id: a, percent: '-5' },
          { party_id: b, percent: '105' },
        ]),
        400,
        'splits[0].percent',
      ],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([
          { party_id: a, percent: 100 },
          { party_id: b, percent: 0 },
        ]),
        400,
        'splits[1].percent',
      ],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([
          { party_id: a, percent: '50.00001' },
          { party_id: b, percent: '49.99999' },
        ]),
        400,
        'splits[0].percent',
      ],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([
          { party_id: a, percent: 50 },
          { party_id: a, percent: 50 },
        ]),
        400,
        'splits[1].party_id',
      ],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([
          { party_id: a, percent: 50 },
          { party_id: 'rp_unknown', percent: 50 },
        ]),
        404,
        'splits[1].party_id',
      ],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule([{ party_id: a, percent: 100, share: 'all' }]),
        400,
        'splits[0].share',
      ],
      ['admin', 'POST', '/revenue-share-rules', rule([]), 400, 'splits'],
      ['admin', 'POST', '/revenue-share-rules', { site_id: site.id }, 400, 'splits'],
      // Negative or too precise amounts, and the rest of the rule.
      ['admin', 'POST', '/revenue-share-rules', rule(both, { minimum_payout: '-1' }), 400, 'minimum_payout'],
      ['admin', 'POST', '/revenue-share-rules', rule(both, { minimum_payout: -25 }), 400, 'minimum_payout'],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule(both, { minimum_payout: '0.001' }),
        400,
        'minimum_payout',
      ],
      ['admin', 'POST', '/revenue-share-rules', rule(both, { currency: 'EUX' }), 400, 'currency'],
      ['admin', 'POST', '/revenue-share-rules', rule(both, { currency: 'USD' }), 400, 'splits[0].party_id'],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        rule(both, { effective_from: '2026-13' }),
        400,
        'effective_from',
      ],
      ['admin', 'POST', '/revenue-share-rules', { splits: both }, 400, 'project_id'],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        { project_id: project.id, site_id: site.id, splits: both },
        400,
        'site_id',
      ],
      ['admin', 'POST', '/revenue-share-rules', { site_id: 'site_unknown', splits: both }, 404, 'site_id'],
      [
        'admin',
        'POST',
        '/revenue-share-rules',
        { project_id: 'prj_unknown', splits: both },
        404,
        'project_id',
      ],
      ['billing', 'POST', '/revenue-share-rules', rule(both), 403, null],
      // Parties.
      ['admin', 'POST', '/revenue-parties', {}, 400, 'name'],
      [
        'admin',
        'POST',
        '/revenue-parties',
        { name: 'X', connected_account_id: 'ba_123' },
        400,
        'connected_account_id',
      ],
      ['admin', 'POST', '/revenue-parties', { name: 'X', iban: 'DE00 1234' }, 400, 'iban'],
      ['admin', 'POST', '/revenue-parties', { name: 'X', iban: 'DE89 3704 0044 0532 0130 01' }, 400, 'iban'],
      ['admin', 'POST', '/revenue-parties', { name: 'X', email: 'x@example.com' }, 400, 'email'],
      ['billing', 'POST', '/revenue-parties', { name: 'X' }, 403, null],
      // Payouts: only for owners and billing delegates, for a month that has ended, of a known party.
      ['admin', 'POST', `/revenue-parties/${a}/payouts`, { period: '2026-09' }, 403, null],
      ['billing', 'POST', `/revenue-parties/${a}/payouts`, { period: '2026-13' }, 400, 'period'],
      ['billing', 'POST', `/revenue-parties/${a}/payouts`, { period: current }, 400, 'period'],
      ['billing', 'POST', `/revenue-parties/${a}/payouts`, {}, 400, 'period'],
      ['billing', 'POST', '/revenue-parties/rp_unknown/payouts', { period: '2026-09' }, 404, null],
      ['owner', 'GET', '/payouts?status=done', undefined, 400, 'status'],
      ['owner', 'GET', '/payouts?method=cheque', undefined, 400, 'method'],
      ['owner', 'GET', '/revenue-statements?period=June', undefined, 400, 'period'],
      ['owner', 'GET', '/revenue-statements/stmt_unknown', undefined, 404, null],
    ];
    for (const [who, method, p, body, status, param] of cases) {
      const res = await as(who as 'owner')(method, p, body);
      expect({ p, body, status: res.status, param: res.body.error?.param ?? null }).toEqual({
        p,
        body,
        status,
        param,
      });
      expect(res.body.error.message).toEqual(expect.any(String));
    }
    expect(await tableCounts(db())).toEqual(before);

    // The messages say what is wrong.
    const over = await as('admin')(
      'POST',
      '/revenue-share-rules',
      rule([
        { party_id: a, percent: 70 },
        { party_id: b, percent: 40 },
      ]),
    );
    expect(over.body.error.message).toBe('splits must add up to exactly 100 %; these add up to 110 %');
    const negative = await as('admin')('POST', '/revenue-share-rules', rule(both, { minimum_payout: '-1' }));
    expect(negative.body.error.message).toMatch(/^minimum_payout must be a non-negative decimal number/);
  });
});
