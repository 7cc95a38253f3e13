import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { Dec } from '../../pricing/money';
import { allocateTransaction } from '../../db/repositories/sessions';
import { findCommandByKey } from '../../db/repositories/chargePointCommands';
import { findPaymentBySession } from '../../db/repositories/payments';
import { findReceiptBySession } from '../../db/repositories/receipts';
import { chargingSessionWorkflowId, ChargingSessionInput } from '../../workflows/charging-session/messages';
import { SESSION_STATUS } from '../../workflows/search-attributes';
import { Fixture, insertBillingFixture } from '../support/fixtures';
import { useSessionStack } from '../support/session-stack';

const TASK_QUEUE = 'integration-sessions';
const STARTED_AT = '2026-11-20T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(STARTED_AT) + minutes * 60_000).toISOString();

const stack = useSessionStack('wf', TASK_QUEUE);

async function begin(
  fx: Fixture,
  meterStartWh = 1000,
): Promise<{ input: ChargingSessionInput; workflowId: string }> {
  const session = await allocateTransaction(stack.tdb.db, {
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId: 1,
    idTag: fx.idTag,
    meterStartWh: String(meterStartWh),
    startedAt: new Date(STARTED_AT),
    workflowIdFor: (tx) => chargingSessionWorkflowId(fx.identity, tx),
  });
  const input: ChargingSessionInput = {
    sessionId: session.id,
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId: 1,
    transactionId: session.transaction_id,
    idTag: fx.idTag,
    meterStartWh: String(meterStartWh),
    startedAt: STARTED_AT,
  };
  await stack.bridge.start(session.workflow_id, input);
  return { input, workflowId: session.workflow_id };
}

async function finish(workflowId: string, meterStopWh: number, minutes: number) {
  await stack.bridge.stop(workflowId, {
    meterStopWh: String(meterStopWh),
    timestamp: at(minutes),
    reason: 'Local',
  });
  return stack.env.client.workflow.getHandle(workflowId).result();
}

describe('charging-session workflow on a real Temporal server and PostgreSQL', () => {
  it('holds, meters, prices, captures exactly the price and writes a receipt that adds up', async () => {
    const fx = await insertBillingFixture(stack.tdb.db, { identity: 'CP-INT-1', idTag: 'TAG-INT-1' });
    const { input, workflowId } = await begin(fx);
    // A retried StartTransaction starts nothing new.
    await stack.bridge.start(workflowId, input);

    await stack.bridge.sendReadings(workflowId, [{ timestamp: at(10), energyWh: '5000' }]);
    await stack.bridge.sendReadings(workflowId, [{ timestamp: at(5), energyWh: '3000' }]); // late, older: ignored
    let live = await stack.bridge.runningCost(workflowId);
    for (let i = 0; i < 50 && live?.phase === 'starting'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      live = await stack.bridge.runningCost(workflowId);
    }
    expect(live?.phase).toBe('active');
    // 4 kWh * 0.35 = 1.40, 10 min * 0.05 = 0.50, + 1.00
    expect(live?.priced?.total).toBe('2.90');

    // 12.345 kWh in 30 min: 1.00 + 4.32 (4.32075) + 1.50
    const outcome = await finish(workflowId, 13_345, 30);
    expect(outcome).toMatchObject({ status: 'completed', total: '6.82', amountCaptured: '6.82' });

    const stored = await findReceiptBySession(stack.tdb.db, input.sessionId);
    expect(stored?.receipt.total).toBe('6.8200');
    expect(stored?.receipt.amount_due).toBe('0.0000');
    const sum = stored!.lines.reduce((s, l) => s.add(l.amount), new Dec(0));
    expect(sum.eq(stored!.receipt.total)).toBe(true);

    const payment = await findPaymentBySession(stack.tdb.db, input.sessionId);
    expect(payment).toMatchObject({
      status: 'captured',
      amount_authorized: '50.0000',
      amount_captured: '6.8200',
    });
    const intent = stack.running.fake.paymentIntent(payment!.provider_payment_id!);
    expect(intent).toMatchObject({
      status: 'succeeded',
      amount: 5000,
      amount_received: 682,
      capture_method: 'manual',
    });

    const session = await stack.tdb.db('charging_sessions').where({ id: input.sessionId }).first();
    expect(session).toMatchObject({
      status: 'completed',
      tariff_version_id: fx.tariffVersionId,
      energy_wh: '12345.000',
    });
    const outbox = await stack.tdb
      .db('outbox')
      .whereIn('object_id', [input.sessionId, stored!.receipt.id])
      .pluck('type');
    expect(outbox.sort()).toEqual(['receipt.issued', 'session.completed', 'session.started']);

    const description = await stack.env.client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(SESSION_STATUS)).toBe('completed');

    const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
    if (process.env.RECORD_HISTORY) {
      const file = path.join(__dirname, '../replay/histories/charging-session-v1.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
  });

  it('releases the hold when the session costs nothing', async () => {
    const fx = await insertBillingFixture(stack.tdb.db, {
      identity: 'CP-INT-2',
      idTag: 'TAG-INT-2',
      components: [{ type: 'per_kwh', price: '0.40' }],
    });
    const { input, workflowId } = await begin(fx);
    const outcome = await finish(workflowId, 1000, 3);
    expect(outcome).toMatchObject({ total: '0.00', amountCaptured: '0.00' });
    const payment = await findPaymentBySession(stack.tdb.db, input.sessionId);
    expect(payment?.status).toBe('canceled');
    expect(stack.running.fake.paymentIntent(payment!.provider_payment_id!)).toMatchObject({
      status: 'canceled',
    });
  });

  it('captures no more than the hold and shows the rest as due on the receipt', async () => {
    const fx = await insertBillingFixture(stack.tdb.db, {
      identity: 'CP-INT-3',
      idTag: 'TAG-INT-3',
      holdAmount: '5.00',
    });
    const { input, workflowId } = await begin(fx, 0);
    const outcome = await finish(workflowId, 40_000, 60); // 1.00 + 14.00 + 3.00
    expect(outcome).toMatchObject({ total: '18.00', amountCaptured: '5.00' });
    const stored = await findReceiptBySession(stack.tdb.db, input.sessionId);
    expect(stored?.receipt).toMatchObject({
      amount_paid: '5.0000',
      amount_due: '13.0000',
      payment_status: 'partially_paid',
    });
  });

  it('records a declined card and bills the session as due', async () => {
    const fx = await insertBillingFixture(stack.tdb.db, {
      identity: 'CP-INT-4',
      idTag: 'TAG-INT-4',
      paymentMethodId: 'pm_card_chargeDeclined',
    });
    const { input, workflowId } = await begin(fx);
    // Without a hold the workflow asks the charge point to stop charging (queued for the OCPP bridge).
    let command = await findCommandByKey(stack.tdb.db, `${workflowId}:remote-stop`);
    for (let i = 0; i < 100 && !command; i++) {
      await new Promise((r) => setTimeout(r, 100));
      command = await findCommandByKey(stack.tdb.db, `${workflowId}:remote-stop`);
    }
    expect(command).toMatchObject({
      identity: 'CP-INT-4',
      action: 'RemoteStopTransaction',
      payload: { transactionId: input.transactionId },
      status: 'pending',
    });
    const outcome = await finish(workflowId, 11_000, 20); // 1.00 + 3.50 + 1.00
    expect(outcome).toMatchObject({ total: '5.50', amountCaptured: '0.00' });
    const payment = await findPaymentBySession(stack.tdb.db, input.sessionId);
    expect(payment?.status).toBe('declined');
    const stored = await findReceiptBySession(stack.tdb.db, input.sessionId);
    expect(stored?.receipt).toMatchObject({ amount_due: '5.5000', payment_status: 'unpaid' });
    if (process.env.RECORD_HISTORY) {
      const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
      const file = path.join(__dirname, '../replay/histories/charging-session-v3-declined.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
  });

  it('keeps charging after a declined hold when the organization says so', async () => {
    const fx = await insertBillingFixture(stack.tdb.db, {
      identity: 'CP-INT-4B',
      idTag: 'TAG-INT-4B',
      paymentMethodId: 'pm_card_chargeDeclined',
    });
    await stack.tdb
      .db('organizations')
      .where({ id: fx.organizationId })
      .update({ stop_charging_on_declined_hold: false });
    const { input, workflowId } = await begin(fx);
    // 'active' is set after the declined hold was handled, so the stop below cannot pre-empt that decision.
    let live = await stack.bridge.runningCost(workflowId);
    for (let i = 0; i < 100 && live?.phase !== 'active'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      live = await stack.bridge.runningCost(workflowId);
    }
    expect(live?.phase).toBe('active');
    expect((await findPaymentBySession(stack.tdb.db, input.sessionId))?.status).toBe('declined');
    const outcome = await finish(workflowId, 11_000, 20);
    expect(outcome).toMatchObject({ total: '5.50', amountCaptured: '0.00' });
    expect(await findCommandByKey(stack.tdb.db, `${workflowId}:remote-stop`)).toBeUndefined();
  });

  it('closes a session without a tariff as unbilled, without receipt or payment', async () => {
    const fx = await insertBillingFixture(stack.tdb.db, { identity: 'CP-INT-5', idTag: 'TAG-INT-5' });
    await stack.tdb.db('tariff_assignments').where({ organization_id: fx.organizationId }).delete();
    const { input, workflowId } = await begin(fx);
    const outcome = await finish(workflowId, 2000, 5);
    expect(outcome).toMatchObject({ status: 'unbilled', total: null });
    expect(await findReceiptBySession(stack.tdb.db, input.sessionId)).toBeUndefined();
    expect(await findPaymentBySession(stack.tdb.db, input.sessionId)).toBeUndefined();
    const session = await stack.tdb.db('charging_sessions').where({ id: input.sessionId }).first();
    expect(session).toMatchObject({ status: 'unbilled', energy_wh: '1000.000' });
  });

  it('retries the capture through a provider outage with the same idempotency key', async () => {
    const fx = await insertBillingFixture(stack.tdb.db, { identity: 'CP-INT-6', idTag: 'TAG-INT-6' });
    const { input, workflowId } = await begin(fx);
    stack.running.fake.failNext({
      method: 'POST',
      pathPrefix: '/v1/payment_intents/',
      status: 500,
      count: 2,
    });
    const outcome = await finish(workflowId, 3000, 10); // 1.00 + 0.70 + 0.50
    expect(outcome).toMatchObject({ total: '2.20', amountCaptured: '2.20' });
    const payment = await findPaymentBySession(stack.tdb.db, input.sessionId);
    const captures = stack.running.fake
      .requests()
      .filter((r) => r.path === `/v1/payment_intents/${payment!.provider_payment_id}/capture`);
    expect(captures.length).toBeGreaterThanOrEqual(3);
    expect(new Set(captures.map((r) => r.idempotencyKey)).size).toBe(1);
    expect(stack.running.fake.paymentIntent(payment!.provider_payment_id!)).toMatchObject({
      amount_received: 220,
    });
  });

  it('refuses to reuse a workflow id that belongs to another session', async () => {
    const fx = await insertBillingFixture(stack.tdb.db, { identity: 'CP-INT-7', idTag: 'TAG-INT-7' });
    const { input, workflowId } = await begin(fx);
    await expect(stack.bridge.start(workflowId, { ...input, sessionId: 'ses_someone_else' })).rejects.toThrow(
      /belongs to session/,
    );
    await expect(stack.bridge.start(workflowId, input)).resolves.toBeUndefined();
    await finish(workflowId, 1500, 2);
  });
});
