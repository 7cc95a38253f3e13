import { writeFileSync } from 'node:fs';
import Stripe from 'stripe';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { databaseEntitlements } from '../../ocpp/billing/entitlements';
import { Dec } from '../../pricing/money';
import { findCommandByKey } from '../../db/repositories/chargePointCommands';
import { putHoldPolicy, type OnLimit } from '../../db/repositories/holdPolicies';
import { findReceiptBySession } from '../../db/repositories/receipts';
import { allocateTransaction } from '../../db/repositories/sessions';
import { chargingSessionWorkflowId } from '../../workflows/charging-session/messages';
import { useBillingStack } from '../support/billing-stack';

// The hold that never falls short, on the real Temporal dev server, PostgreSQL and the stateful Stripe fake:
// it grows with the running cost, what it cannot cover is charged off-session, and what cannot be charged
// is the driver's debt until they pay it. Tariff: 1.00 per session + 0.35/kWh + 0.05/min.

const stack = useBillingStack('holds', 'integration-holds');
const { as } = stack;
const db = () => stack.tdb.db;
const STARTED_AT = Date.now() - 60 * 60_000;
const at = (minutes: number) => new Date(STARTED_AT + minutes * 60_000).toISOString();
let connector = 0;

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function card(paymentMethodId: string) {
  await db()('users')
    .where({ id: stack.fx.userId })
    .update({ payment_method_id: paymentMethodId, payment_customer_id: 'cus_driver' });
}

async function policy(amount: string, onLimit: OnLimit = 'charge_after') {
  await putHoldPolicy(
    db(),
    stack.fx.organizationId,
    {},
    { amount, currency: 'EUR', incrementAtPercent: '80', onLimit },
  );
}

async function begin(idTag = stack.fx.idTag) {
  const { fx } = stack;
  const connectorId = (connector++ % 50) + 1;
  const session = await allocateTransaction(db(), {
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId,
    idTag,
    meterStartWh: '1000',
    startedAt: new Date(at(0)),
    workflowIdFor: (tx) => chargingSessionWorkflowId(fx.identity, tx),
  });
  await stack.bridge.start(session.workflow_id, {
    sessionId: session.id,
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId,
    transactionId: session.transaction_id,
    idTag,
    meterStartWh: '1000',
    startedAt: at(0),
  });
  return session;
}

const movements = (sessionId: string) =>
  db()('payment_movements')
    .where({ session_id: sessionId })
    .orderBy('seq')
    .select('kind', 'status', 'amount');
const kinds = async (sessionId: string) =>
  (await movements(sessionId)).map((m) => `${m.kind}:${m.status}:${Number(m.amount).toFixed(2)}`);

async function finish(workflowId: string, sessionId: string, wh = 13_345, minutes = 30) {
  await stack.bridge.stop(workflowId, { meterStopWh: String(wh), timestamp: at(minutes), reason: 'Local' });
  const outcome = await stack.env.client.workflow.getHandle(workflowId).result();
  const receipt = (await findReceiptBySession(db(), sessionId))!.receipt;
  return { outcome, receipt };
}

/** Running cost 5.50 (10 kWh in 20 min): past 80 % of a 5.00 hold. */
async function outgrow(workflowId: string, sessionId: string) {
  await stack.bridge.sendReadings(workflowId, [{ timestamp: at(10), energyWh: '5000' }]);
  await stack.bridge.sendReadings(workflowId, [{ timestamp: at(20), energyWh: '11000' }]);
  return eventually(async () => (await movements(sessionId)).find((m) => m.kind === 'increment'));
}

describe('a hold that never falls short', () => {
  it('captures a price below the hold and releases the rest', async () => {
    await card('pm_card_visa');
    await policy('50.00');
    const s = await begin();
    const { outcome, receipt } = await finish(s.workflow_id, s.id);
    expect(outcome).toMatchObject({ total: '6.82', amountCaptured: '6.82' });
    expect(receipt).toMatchObject({ amount_paid: '6.8200', amount_due: '0.0000', payment_status: 'paid' });
    expect(await kinds(s.id)).toEqual(['authorization:succeeded:50.00', 'capture:succeeded:6.82']);
  });

  it('raises the hold at 80 % of it and captures the whole price within the new hold', async () => {
    await policy('5.00');
    const s = await begin();
    const increment = await outgrow(s.workflow_id, s.id);
    expect(increment).toMatchObject({ status: 'succeeded' });
    const { outcome } = await finish(s.workflow_id, s.id);
    expect(outcome).toMatchObject({ total: '6.82', amountCaptured: '6.82' });
    expect(await kinds(s.id)).toEqual([
      'authorization:succeeded:5.00',
      'increment:succeeded:10.00',
      'capture:succeeded:6.82',
    ]);
    const history = await stack.env.client.workflow.getHandle(s.workflow_id).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
    if (process.env.RECORD_HISTORY) {
      const file = path.join(__dirname, '../replay/histories/charging-session-v4-hold-grows.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
    const timeline = await as('owner')('GET', `/sessions/${s.id}/payment-timeline`);
    expect(timeline.body.data.map((m: { kind: string }) => m.kind)).toEqual([
      'authorization',
      'increment',
      'capture',
    ]);
  });

  it('charges the difference off-session when the increment is declined', async () => {
    await card('pm_card_visa_increment_declined');
    await policy('5.00');
    const s = await begin();
    expect(await outgrow(s.workflow_id, s.id)).toMatchObject({ status: 'declined' });
    const { outcome, receipt } = await finish(s.workflow_id, s.id);
    expect(outcome).toMatchObject({ total: '6.82', amountCaptured: '6.82' });
    expect(receipt).toMatchObject({ amount_paid: '6.8200', payment_status: 'paid' });
    // The receipt's payments add up to its total: the hold's capture and the difference charged after it.
    expect(receipt.paid_with).toMatchObject({
      mode: 'card',
      payments: [
        { method: 'card', amount: '5.00' },
        { method: 'card', amount: '1.82' },
      ],
      due: null,
    });
    expect(await kinds(s.id)).toEqual([
      'authorization:succeeded:5.00',
      'increment:declined:10.00',
      'capture:succeeded:5.00',
      'off_session_charge:succeeded:1.82',
    ]);
  });

  it('records a debt when the difference is declined too, refuses the driver until it is paid', async () => {
    await card('pm_card_chargeDeclinedOffSession');
    await policy('5.00');
    const s = await begin();
    const { outcome, receipt } = await finish(s.workflow_id, s.id);
    expect(outcome).toMatchObject({ total: '6.82', amountCaptured: '5.00' });
    expect(receipt).toMatchObject({
      amount_paid: '5.0000',
      amount_due: '1.8200',
      payment_status: 'partially_paid',
    });
    expect(await kinds(s.id)).toEqual([
      'authorization:succeeded:5.00',
      'capture:succeeded:5.00',
      'off_session_charge:declined:1.82',
      'debt:open:1.82',
    ]);
    const check = {
      organizationId: stack.fx.organizationId,
      chargePointId: stack.fx.chargePointId,
      concurrency: false,
    };
    const entitlements = databaseEntitlements(db());
    expect((await entitlements.idTagInfo(check, stack.fx.idTag, new Date())).status).toBe('Blocked');

    const debts = await as('owner')('GET', `/debts?user_id=${stack.fx.userId}&status=open`);
    expect(debts.body.data).toEqual([
      expect.objectContaining({ amount: '1.82', session_id: s.id, status: 'open' }),
    ]);
    const refused = await as('owner')('POST', `/debts/${debts.body.data[0].id}/pay`, {
      payment_method_id: 'pm_card_chargeDeclinedOffSession',
    });
    expect(refused.status).toBe(402);
    expect((await entitlements.idTagInfo(check, stack.fx.idTag, new Date())).status).toBe('Blocked');
    const paid = await as('owner')('POST', `/debts/${debts.body.data[0].id}/pay`, {
      payment_method_id: 'pm_card_visa',
    });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'paid', amount: '1.82' });
    expect((await entitlements.idTagInfo(check, stack.fx.idTag, new Date())).status).toBe('Accepted');
    const again = await as('owner')('POST', `/debts/${debts.body.data[0].id}/pay`, {});
    expect(again.status).toBe(409);
    expect((await kinds(s.id)).at(-1)).toBe('debt_payment:succeeded:1.82');
  });

  it('stops the session remotely when the hold cannot grow and the policy says stop', async () => {
    await card('pm_card_visa_increment_declined');
    await policy('5.00', 'stop');
    const s = await begin();
    expect(await outgrow(s.workflow_id, s.id)).toMatchObject({ status: 'declined' });
    const command = await eventually(async () =>
      findCommandByKey(db(), `${s.workflow_id}:remote-stop-at-limit`),
    );
    expect(command).toMatchObject({ action: 'RemoteStopTransaction' });
    await finish(s.workflow_id, s.id);
  });

  it('captures before the hold expires when StopTransaction never comes, and flags the session', async () => {
    await card('pm_card_visa');
    await policy('50.00');
    stack.running.fake.setHoldLifetime(4_000);
    try {
      const s = await begin();
      await stack.bridge.sendReadings(s.workflow_id, [{ timestamp: at(10), energyWh: '5000' }]);
      const outcome = await stack.env.client.workflow.getHandle(s.workflow_id).result();
      // Priced from the readings received: 4 kWh and 10 minutes.
      expect(outcome).toMatchObject({ status: 'completed', total: '2.90', amountCaptured: '2.90' });
      const session = await db()('charging_sessions').where({ id: s.id }).first();
      expect(session).toMatchObject({ stop_reason: 'CaptureDeadline', status: 'completed' });
      expect(await kinds(s.id)).toEqual(['authorization:succeeded:50.00', 'capture:succeeded:2.90']);
      // The charge point comes back later: its StopTransaction finds the session closed.
      expect(await stack.bridge.stop(s.workflow_id, { meterStopWh: '9000', timestamp: at(40) })).toBe(false);
    } finally {
      stack.running.fake.setHoldLifetime(undefined);
    }
  });

  it('captures exactly once when the answer to the capture is lost and the activity retries', async () => {
    await card('pm_card_visa');
    await policy('50.00');
    const s = await begin();
    // The fake captures, then answers after the adapter's 500 ms timeout: the worker never hears of it.
    stack.running.fake.failNext({ operation: 'capture', status: 200, delayMs: 1_500 });
    const { outcome } = await finish(s.workflow_id, s.id);
    expect(outcome).toMatchObject({ total: '6.82', amountCaptured: '6.82' });
    const payment = await db()('payments').where({ session_id: s.id }).first();
    const captures = stack.running.fake
      .requests()
      .filter((r) => r.path === `/v1/payment_intents/${payment.provider_payment_id}/capture`);
    expect(captures.length).toBeGreaterThanOrEqual(2);
    expect(captures.filter((r) => !r.replayed)).toHaveLength(1);
    expect(stack.running.fake.paymentIntent(payment.provider_payment_id)).toMatchObject({
      amount_received: 682,
    });
    expect(
      stack.running.fake.listCharges().filter((c) => c.payment_intent === payment.provider_payment_id),
    ).toHaveLength(1);
    expect(await kinds(s.id)).toEqual(['authorization:succeeded:50.00', 'capture:succeeded:6.82']);
  });

  it('releases a hold that outlived its session, and books it as a release', async () => {
    await card('pm_card_visa');
    await policy('50.00');
    const s = await begin();
    const held = await eventually(async () =>
      (await movements(s.id)).find((m) => m.kind === 'authorization'),
    );
    expect(held.status).toBe('succeeded');
    // The workflow dies before its capture and someone closes the session by hand.
    await stack.env.client.workflow.getHandle(s.workflow_id).terminate('test: lost before capture');
    await db()('charging_sessions').where({ id: s.id }).update({ status: 'unbilled' });
    const payment = await db()('payments').where({ session_id: s.id }).first();
    const released = await stack.env.client.workflow.execute('holdSweep', {
      taskQueue: stack.timers.taskQueue,
      workflowId: `hold-sweep-test-${s.id}`,
      args: [{ olderThanMs: 0 }],
    });
    expect(released).toBeGreaterThanOrEqual(1);
    expect(stack.running.fake.paymentIntent(payment.provider_payment_id)?.status).toBe('canceled');
    expect((await db()('payments').where({ session_id: s.id }).first()).status).toBe('canceled');
    expect(await kinds(s.id)).toEqual(['authorization:succeeded:50.00', 'release:succeeded:50.00']);
    expect(await db()('refunds').where({ payment_id: payment.id })).toEqual([]);
  });
});

/** A user of the organization with one id tag of the given type (a partner's token, a terminal's tag). */
async function tagOf(type: 'roaming' | 'terminal', tag: string, roamingParty: string | null = null) {
  const userId = `usr_${tag.replace(/[^A-Z0-9]/gi, '')}`;
  await db()('users').insert({
    id: userId,
    organization_id: stack.fx.organizationId,
    name: tag,
    email: `${userId.toLowerCase()}@partners.example`,
    user_type: (await db()('users').where({ id: stack.fx.userId }).first()).user_type,
  });
  const created = await as('owner')('POST', '/id-tags', {
    id_tag: tag,
    user_id: userId,
    type,
    ...(roamingParty ? { roaming_party: roamingParty } : {}),
  });
  expect(created.status).toBe(201);
  return tag;
}

describe('every way a driver pays', () => {
  it('holds nothing when a rule makes the session free', async () => {
    await card('pm_card_visa');
    await policy('50.00');
    const rule = await as('owner')('POST', '/billing-rules', {
      name: 'Staff charge free',
      priority: 1,
      stackable: false,
      conditions: { membership: true },
      action: { type: 'override', price_multiplier: '0' },
    });
    expect(rule.status).toBe(201);
    const member = await db()('users').where({ id: stack.fx.userId }).first();
    await db()('users')
      .where({ id: stack.fx.userId })
      .update({ membership_valid_until: new Date(Date.now() + 86_400_000) });
    try {
      const s = await begin();
      const { outcome, receipt } = await finish(s.workflow_id, s.id);
      expect(outcome).toMatchObject({ total: '0.00', amountCaptured: '0.00' });
      expect(await kinds(s.id)).toEqual([]);
      expect(
        stack.running.fake.listPaymentIntents().filter((pi) => pi.metadata?.session_id === s.id),
      ).toEqual([]);
      expect(receipt.paid_with).toEqual({ mode: 'free', payments: [], due: null });
    } finally {
      await as('owner')('POST', `/billing-rules/${rule.body.id}/disable`);
      await db()('users')
        .where({ id: stack.fx.userId })
        .update({ membership_valid_until: member.membership_valid_until });
    }
  });

  it('charges a roaming token to nobody here and records the session for the partner', async () => {
    const missing = await as('owner')('POST', '/id-tags', {
      id_tag: 'DEABC-TOKEN-0',
      user_id: stack.fx.userId,
      type: 'roaming',
    });
    expect({ status: missing.status, param: missing.body.error.param }).toEqual({
      status: 400,
      param: 'roaming_party',
    });
    const tag = await tagOf('roaming', 'DEABC-TOKEN-1', 'DE*ABC');
    const s = await begin(tag);
    const { outcome, receipt } = await finish(s.workflow_id, s.id);
    expect(outcome).toMatchObject({ total: '6.82', amountCaptured: '0.00' });
    expect(await kinds(s.id)).toEqual([]);
    expect(receipt).toMatchObject({ amount_due: '6.8200', payment_status: 'unpaid' });
    expect(receipt.paid_with).toEqual({
      mode: 'roaming',
      payments: [],
      due: { amount: '6.82', by: 'roaming_partner' },
      roaming_party: 'DE*ABC',
    });
    expect(await db()('charging_sessions').where({ id: s.id }).first()).toMatchObject({
      payment_mode: 'roaming',
      roaming_party: 'DE*ABC',
    });
  });

  it("captures a contactless terminal's authorization linked through the API", async () => {
    const tag = await tagOf('terminal', 'TERMINAL-CP-1');
    const s = await begin(tag);
    await eventually(async () =>
      (await db()('charging_sessions').where({ id: s.id }).first()).payment_mode === 'terminal'
        ? true
        : undefined,
    );
    const stripe = new Stripe('sk_test_terminal', {
      host: '127.0.0.1',
      port: stack.running.fake.port,
      protocol: 'http',
    });
    const terminal = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'eur',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    const bad = await as('owner')('POST', `/sessions/${s.id}/terminal-payment`, {
      authorization_reference: 'ch_123',
    });
    expect({ status: bad.status, param: bad.body.error.param }).toEqual({
      status: 400,
      param: 'authorization_reference',
    });
    const linked = await as('owner')('POST', `/sessions/${s.id}/terminal-payment`, {
      authorization_reference: terminal.id,
    });
    expect(linked.body).toMatchObject({ amount_authorized: '20.00' });
    const { outcome, receipt } = await finish(s.workflow_id, s.id);
    expect(outcome).toMatchObject({ total: '6.82', amountCaptured: '6.82' });
    expect(stack.running.fake.paymentIntent(terminal.id)).toMatchObject({
      status: 'succeeded',
      amount_received: 682,
    });
    expect(receipt.paid_with).toMatchObject({
      mode: 'terminal',
      payments: [{ method: 'terminal', amount: '6.82', reference: terminal.id }],
      due: null,
    });
    expect(await kinds(s.id)).toEqual(['authorization:succeeded:20.00', 'capture:succeeded:6.82']);
  });

  it('says on the receipt which card paid', async () => {
    await card('pm_card_visa');
    await policy('50.00');
    const s = await begin();
    const { receipt } = await finish(s.workflow_id, s.id);
    expect(receipt.paid_with).toEqual({
      mode: 'card',
      payments: [
        {
          method: 'card',
          amount: '6.82',
          reference: expect.stringMatching(/^pi_/),
          brand: 'visa',
          last4: '4242',
        },
      ],
      due: null,
    });
    const methods = await as('owner')('GET', `/users/${stack.fx.userId}/payment-methods`);
    expect(methods.body.data).toEqual([
      expect.objectContaining({
        id: 'pm_card_visa',
        type: 'card',
        brand: 'visa',
        last4: '4242',
        off_session: true,
      }),
    ]);
    const read = await as('owner')('GET', `/sessions/${s.id}`);
    expect(read.body.receipt.paid_with).toEqual(receipt.paid_with);
  });
});

describe('a prepaid wallet', () => {
  const wallet = async () => (await as('owner')('GET', `/users/${stack.fx.userId}/wallet`)).body;
  const topUp = async (amount: string) => {
    const res = await as('owner')('POST', `/users/${stack.fx.userId}/wallet/top-ups`, { amount });
    expect(res.status).toBe(201);
  };

  it('reserves at start, reserves more as the cost grows, and settles the price', async () => {
    await card('pm_card_visa');
    await policy('5.00');
    const mode = await as('owner')('PUT', `/users/${stack.fx.userId}/payment-mode`, { mode: 'wallet' });
    expect(mode.status).toBe(200);
    await topUp('8.00');
    const s = await begin();
    await stack.bridge.sendReadings(s.workflow_id, [{ timestamp: at(10), energyWh: '5000' }]);
    await stack.bridge.sendReadings(s.workflow_id, [{ timestamp: at(20), energyWh: '11000' }]);
    await eventually(async () => ((await wallet()).reserved === '8.00' ? true : undefined));
    const { outcome, receipt } = await finish(s.workflow_id, s.id);
    expect(outcome).toMatchObject({ total: '6.82', amountCaptured: '6.82' });
    expect(receipt.paid_with).toMatchObject({
      mode: 'wallet',
      payments: [{ method: 'wallet', amount: '6.82' }],
      due: null,
    });
    expect(await wallet()).toMatchObject({ balance: '1.18', reserved: '0.00', available: '1.18' });
    const history = await stack.env.client.workflow.getHandle(s.workflow_id).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
    if (process.env.RECORD_HISTORY) {
      const file = path.join(__dirname, '../replay/histories/charging-session-v5-wallet.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
    expect(stack.running.fake.listPaymentIntents().filter((pi) => pi.metadata?.session_id === s.id)).toEqual(
      [],
    );
  });

  it('stops the session when the wallet runs dry, and the rest becomes a debt', async () => {
    const s = await begin();
    // 1.18 left: reserved at once, no more to come; 2.90 after 10 minutes is past it.
    await stack.bridge.sendReadings(s.workflow_id, [{ timestamp: at(10), energyWh: '5000' }]);
    const command = await eventually(async () =>
      findCommandByKey(db(), `${s.workflow_id}:remote-stop-wallet-empty`),
    );
    expect(command).toMatchObject({ action: 'RemoteStopTransaction' });
    const { outcome, receipt } = await finish(s.workflow_id, s.id, 5000, 10);
    expect(outcome).toMatchObject({ total: '2.90', amountCaptured: '1.18' });
    expect(receipt).toMatchObject({ amount_due: '1.7200', payment_status: 'partially_paid' });
    expect((await wallet()).balance).toBe('0.00');
    const debts = await as('owner')('GET', `/debts?user_id=${stack.fx.userId}&status=open`);
    expect(debts.body.data.find((d: { session_id: string }) => d.session_id === s.id)).toMatchObject({
      amount: '1.72',
    });
    for (const d of debts.body.data) {
      await as('owner')('POST', `/debts/${d.id}/pay`, { payment_method_id: 'pm_card_visa' });
    }
  });

  it('never lets two concurrent sessions spend more than the balance', async () => {
    await topUp('10.00');
    const [a, b] = [await begin(), await begin()];
    await Promise.all(
      [a, b].map((s) => eventually(async () => ((await movements(s.id)).length > 0 ? true : undefined))),
    );
    const [ra, rb] = await Promise.all([finish(a.workflow_id, a.id), finish(b.workflow_id, b.id)]);
    const spent = new Dec(ra.outcome.amountCaptured).add(rb.outcome.amountCaptured);
    expect(spent.toFixed(2)).toBe('10.00');
    expect((await wallet()).balance).toBe('0.00');
    await as('owner')('PUT', `/users/${stack.fx.userId}/payment-mode`, { mode: null });
  });
});

describe('the books', () => {
  it('reconciles every charge of these sessions with the provider: holds, differences, debts paid, top-ups', async () => {
    // One more difference charged off-session, so the day holds one whatever ran before.
    await card('pm_card_visa_increment_declined');
    await policy('5.00');
    const s = await begin();
    await outgrow(s.workflow_id, s.id);
    await finish(s.workflow_id, s.id);
    expect((await kinds(s.id)).at(-1)).toBe('off_session_charge:succeeded:1.82');
    const org = (await as('owner')('GET', `/organizations/${stack.fx.organizationId}`)).body;
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: org.time_zone }).format(new Date());
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const report = await as('billing')('POST', '/reconciliations', { from: today, to: tomorrow });
    expect(report.status).toBe(201);
    expect(report.body.differences_by_kind).toMatchObject({
      missing_capture: 0,
      amount_mismatch: 0,
      refund_not_recorded: 0,
    });
  });
});

describe('hold policies', () => {
  it('refuses a bad hold policy with the field named, and writes nothing', async () => {
    const before = await db()('hold_policies').count('* as n').first();
    for (const [body, param] of [
      [{ amount: '-5', currency: 'EUR' }, 'amount'],
      [{ amount: '5.001', currency: 'EUR' }, 'amount'],
      [{ amount: '5', currency: 'EURO' }, 'currency'],
      [{ amount: '5', currency: 'EUR', increment_at_percent: 120 }, 'increment_at_percent'],
      [{ amount: '5', currency: 'EUR', on_limit: 'panic' }, 'on_limit'],
      [{ amount: '5', currency: 'EUR', site_id: 'site_nope' }, 'site_id'],
    ] as const) {
      const res = await as('owner')('PUT', '/hold-policies', body);
      expect({ status: res.status, param: res.body.error?.param }).toEqual({
        status: res.status >= 400 ? res.status : 400,
        param,
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    expect(await db()('hold_policies').count('* as n').first()).toEqual(before);
    const ok = await as('owner')('PUT', '/hold-policies', {
      amount: '25.00',
      currency: 'eur',
      power_class: 'DC',
      on_limit: 'stop',
    });
    expect(ok.body).toMatchObject({
      amount: '25.00',
      currency: 'EUR',
      power_class: 'DC',
      increment_at_percent: '80',
      on_limit: 'stop',
    });
    expect((await as('billing')('PUT', '/hold-policies', { amount: '1', currency: 'EUR' })).status).toBe(403);
  });
});
