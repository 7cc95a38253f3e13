import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { getConsumption, setAllowance } from '../../db/repositories/allowances';
import { findPaymentBySession } from '../../db/repositories/payments';
import { createPromotionalCode } from '../../db/repositories/promotionalCodes';
import { applyCodeToUser } from '../../db/repositories/promotionApplications';
import { getRedemptionForSession } from '../../db/repositories/promotionRedemptions';
import { findReceiptBySession } from '../../db/repositories/receipts';
import { allocateTransaction } from '../../db/repositories/sessions';
import type { TariffDefinition } from '../../pricing/model';
import { Dec } from '../../pricing/money';
import { chargingSessionWorkflowId } from '../../workflows/charging-session/messages';
import { insertBillingFixture } from '../support/fixtures';
import { useSessionStack } from '../support/session-stack';

// The workflow prices idle time from connector statuses, redeems the driver's promotional code and takes
// the monthly allowance at the end of the session; the receipt, the capture and the redemption agree.

const TASK_QUEUE = 'integration-pricing';
const STARTED_AT = '2026-11-20T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(STARTED_AT) + minutes * 60_000).toISOString();

// 1.00 per session, 0.40 per kWh, 6.00 per idle hour after 10 free minutes, all at 20 % VAT.
const TARIFF: TariffDefinition = {
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: '1.00', vat: '20', step_size: 1 },
        { type: 'ENERGY', price: '0.40', vat: '20', step_size: 1 },
        { type: 'PARKING_TIME', price: '6.00', vat: '20', step_size: 1 },
      ],
    },
  ],
  idle: { grace_period_seconds: 600 },
};

const stack = useSessionStack('wfprice', TASK_QUEUE);

const sum = (lines: { [k: string]: string }[], field: string) =>
  lines.reduce((s, l) => s.add(l[field]), new Dec(0));

it('bills idle time after the grace, the allowance and a 10 % code, and the receipt adds up', async () => {
  const fx = await insertBillingFixture(stack.tdb.db, {
    identity: 'CP-PRICE-1',
    idTag: 'TAG-PRICE-1',
    definition: TARIFF,
  });
  await setAllowance(stack.tdb.db, fx.organizationId, fx.userId, '2');
  await createPromotionalCode(stack.tdb.db, fx.organizationId, {
    code: 'WELCOME10',
    discountType: 'percent',
    discountValue: '10',
    currency: null,
    maxUses: null,
    expiresAt: null,
    allowMultipleUsesPerUser: false,
  });
  await applyCodeToUser(stack.tdb.db, fx.organizationId, fx.userId, 'WELCOME10', new Date(at(-60)));

  const session = await allocateTransaction(stack.tdb.db, {
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId: 1,
    idTag: fx.idTag,
    meterStartWh: '1000',
    startedAt: new Date(STARTED_AT),
    workflowIdFor: (tx) => chargingSessionWorkflowId(fx.identity, tx),
  });
  const workflowId = session.workflow_id;
  await stack.bridge.start(workflowId, {
    sessionId: session.id,
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId: 1,
    transactionId: session.transaction_id,
    idTag: fx.idTag,
    meterStartWh: '1000',
    startedAt: STARTED_AT,
  });
  await stack.bridge.sendStatus(workflowId, { timestamp: at(0), status: 'Charging' });
  await stack.bridge.sendReadings(workflowId, [
    { timestamp: at(15), energyWh: '6000' },
    { timestamp: at(30), energyWh: '11000' },
  ]);
  // The car is full at 30 min and stays plugged in until 60 min: 30 idle minutes, 10 of them free.
  await stack.bridge.sendStatus(workflowId, { timestamp: at(30), status: 'SuspendedEV' });
  await stack.bridge.stop(workflowId, { meterStopWh: '11000', timestamp: at(60), reason: 'EVDisconnected' });
  const outcome = await stack.env.client.workflow.getHandle(workflowId).result();

  // 10 kWh, 2 of them from the allowance: 8 × 0.40 = 3.20; 20 idle min × 0.10 = 2.00; + 1.00 → 6.20,
  // VAT 0.64 + 0.40 + 0.20 = 1.24. The code takes 10 % of both: 0.62 and 0.12 (0.124).
  expect(outcome).toMatchObject({ status: 'completed', total: '6.70', amountCaptured: '6.70' });

  const stored = (await findReceiptBySession(stack.tdb.db, session.id))!;
  expect(stored.receipt).toMatchObject({ total_excl_vat: '5.5800', total_vat: '1.1200', total: '6.7000' });
  const lines = stored.lines as unknown as { [k: string]: string }[];
  expect(sum(lines, 'amount').eq(stored.receipt.total_excl_vat)).toBe(true);
  expect(sum(lines, 'vat_amount').eq(stored.receipt.total_vat)).toBe(true);
  expect(sum(lines, 'amount_incl_vat').eq(stored.receipt.total)).toBe(true);
  expect(lines.map((l) => [l.component, l.kind, new Dec(l.amount).toFixed(2)])).toEqual([
    ['flat_fee', 'usage', '1.00'],
    ['energy', 'usage', '3.20'],
    ['energy', 'allowance', '0.00'],
    ['idle_time', 'usage', '2.00'],
    ['idle_time', 'idle_grace', '0.00'],
    ['promotion', 'promotion', '-0.62'],
  ]);

  expect(await getConsumption(stack.tdb.db, session.id)).toMatchObject({ grantedKwh: '2' });
  const redemption = await getRedemptionForSession(stack.tdb.db, session.id);
  expect(redemption).toMatchObject({ code: 'WELCOME10' });
  expect(new Dec(redemption!.amountDiscounted!).eq('0.74')).toBe(true);
  const payment = await findPaymentBySession(stack.tdb.db, session.id);
  expect(payment).toMatchObject({ status: 'captured', amount_captured: '6.7000' });

  const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
  if (process.env.RECORD_HISTORY) {
    const file = path.join(__dirname, '../replay/histories/charging-session-v2-discounts.json');
    writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
  }
});
