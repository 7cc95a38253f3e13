import { newId } from '../../db/ids';
import type { RunningCost } from '../../workflows/charging-session/messages';
import { createSiteFor, expectError, Harness, startHarness, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;
let chargePointId: string;

beforeAll(async () => {
  h = await startHarness('sessions', { runningCostTimeoutMs: 300 });
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  const { site } = await createSiteFor(acme);
  chargePointId = (
    await acme.call('POST', '/charge-points', {
      body: { identity: 'CP-S1', site_id: site.id, hold_amount: '40' },
    })
  ).body.id;
});
afterAll(() => h.close());

let transactionId = 1000;

/** A session row as the session workflow's activities write it. */
async function insertSession(
  status: 'starting' | 'active' | 'completed' | 'unbilled',
  extra: Record<string, unknown> = {},
) {
  const id = newId('ses');
  const tx = ++transactionId;
  await h.db('charging_sessions').insert({
    id,
    organization_id: acme.org.id,
    charge_point_id: chargePointId,
    connector_id: 1,
    transaction_id: tx,
    id_tag: 'TAG-1',
    status,
    currency: 'EUR',
    meter_start_wh: '250000.000',
    started_at: new Date(Date.UTC(2026, 10, 23, 8, 0, tx % 60)),
    workflow_id: `charging-session:CP-S1:${tx}`,
    ...extra,
  });
  return { id, transactionId: tx, workflowId: `charging-session:CP-S1:${tx}` };
}

async function insertCompleted() {
  const s = await insertSession('completed', {
    meter_stop_wh: '268901.000',
    energy_wh: '18901.000',
    duration_seconds: 2820,
    total_amount: '9.8100',
    stopped_at: new Date('2026-11-23T08:47:00Z'),
    stop_reason: 'EVDisconnected',
  });
  const receiptId = newId('rcpt');
  await h.db('receipts').insert({
    id: receiptId,
    number: `R-${s.transactionId}`,
    organization_id: acme.org.id,
    session_id: s.id,
    currency: 'EUR',
    total: '9.8100',
    total_excl_vat: '9.8100',
    amount_paid: '9.8100',
    amount_due: '0.0000',
    payment_status: 'paid',
  });
  await h.db('receipt_lines').insert([
    {
      receipt_id: receiptId,
      position: 0,
      component: 'flat_fee',
      description: 'Session fee',
      quantity: '1',
      unit: 'session',
      unit_price: '1.500000',
      amount: '1.5000',
      amount_incl_vat: '1.5000',
    },
    {
      receipt_id: receiptId,
      position: 1,
      component: 'per_kwh',
      description: 'Energy',
      quantity: '18.901',
      unit: 'kWh',
      unit_price: '0.390000',
      amount: '7.3700',
      amount_incl_vat: '7.3700',
    },
    {
      receipt_id: receiptId,
      position: 2,
      component: 'per_minute',
      description: 'Charging time',
      quantity: '47',
      unit: 'min',
      unit_price: '0.020000',
      amount: '0.9400',
      amount_incl_vat: '0.9400',
    },
  ]);
  await h.db('payments').insert({
    id: newId('pay'),
    organization_id: acme.org.id,
    session_id: s.id,
    provider: 'stripe',
    provider_payment_id: 'pi_123',
    status: 'captured',
    currency: 'EUR',
    amount_authorized: '40.0000',
    amount_captured: '9.8100',
  });
  return s;
}

const COST: RunningCost = {
  phase: 'active',
  asOf: '2026-11-23T08:40:00.000Z',
  priced: {
    currency: 'EUR',
    tariffVersionId: 'tarv_x',
    energyKwh: '17.500',
    durationSeconds: 2400,
    lines: [
      {
        component: 'flat_fee',
        kind: 'usage',
        description: 'Session fee',
        quantity: '1',
        unit: 'session',
        unitPrice: '1.5',
        vatRate: null,
        amount: '1.50',
        vatAmount: '0.00',
        amountInclVat: '1.50',
        source: {
          type: 'tariff' as const,
          tariffVersionId: 'tarv_x',
          tariffVersion: 1,
          element: 0,
          rules: [],
        },
      },
      {
        component: 'energy',
        kind: 'usage',
        description: 'Energy',
        quantity: '17.5',
        unit: 'kWh',
        unitPrice: '0.39',
        vatRate: null,
        amount: '6.83',
        vatAmount: '0.00',
        amountInclVat: '6.83',
        source: {
          type: 'tariff' as const,
          tariffVersionId: 'tarv_x',
          tariffVersion: 1,
          element: 0,
          rules: [],
        },
      },
    ],
    chargingSeconds: 2400,
    idleSeconds: 0,
    totalExclVat: '8.33',
    totalVat: '0.00',
    total: '8.33',
    appliedRules: [],
    promotion: null,
    rejectedReadings: [],
    ocpi: {
      total_energy: '17.5',
      total_time: '0.6666666666666666666666666666666666666667',
      total_parking_time: '0',
      total_fixed_cost: { excl_vat: '1.50', incl_vat: '1.50' },
      total_energy_cost: { excl_vat: '6.83', incl_vat: '6.83' },
      total_time_cost: { excl_vat: '0.00', incl_vat: '0.00' },
      total_parking_cost: { excl_vat: '0.00', incl_vat: '0.00' },
      total_cost: { excl_vat: '8.33', incl_vat: '8.33' },
    },
  },
};

describe('GET /sessions/:id', () => {
  it('a live session carries the running cost from its workflow, and no receipt yet', async () => {
    const s = await insertSession('active');
    h.runningCosts.set(s.workflowId, COST);
    const res = await acme.call('GET', `/sessions/${s.id}`);
    expect(res.status).toBe(200);
    expect(h.runningCost).toHaveBeenLastCalledWith(s.workflowId);
    expect(res.body).toMatchObject({
      object: 'charging_session',
      id: s.id,
      status: 'active',
      charge_point_id: chargePointId,
      charge_point_identity: 'CP-S1',
      connector_id: 1,
      transaction_id: s.transactionId,
      id_tag: 'TAG-1',
      meter_start_wh: '250000',
      meter_stop_wh: null,
      energy_kwh: null,
      receipt: null,
      payment: null,
      running_cost: {
        phase: 'active',
        as_of: COST.asOf,
        priced: {
          currency: 'EUR',
          tariff_version_id: 'tarv_x',
          energy_kwh: '17.500',
          duration_seconds: 2400,
          total_excl_vat: '8.33',
          total_vat: '0.00',
          total: '8.33',
          applied_rules: [],
          promotion: null,
          lines: [
            {
              component: 'flat_fee',
              kind: 'usage',
              description: 'Session fee',
              quantity: '1',
              unit: 'session',
              unit_price: '1.5',
              vat_rate: null,
              amount: '1.50',
              amount_incl_vat: '1.50',
              source: { type: 'tariff', tariff_version_id: 'tarv_x', element: 0 },
            },
            {
              component: 'energy',
              description: 'Energy',
              quantity: '17.5',
              unit: 'kWh',
              unit_price: '0.39',
              amount: '6.83',
            },
          ],
        },
      },
    });
  });

  it('a completed session has its receipt and payment with money as strings, and no running cost', async () => {
    const s = await insertCompleted();
    h.runningCost.mockClear();
    const res = await acme.call('GET', `/sessions/${s.id}`);
    expect(h.runningCost).not.toHaveBeenCalled();
    expect(res.body).toMatchObject({
      status: 'completed',
      meter_stop_wh: '268901',
      energy_kwh: '18.901',
      duration_seconds: 2820,
      total_amount: '9.81',
      stopped_at: '2026-11-23T08:47:00.000Z',
      running_cost: null,
      receipt: {
        object: 'receipt',
        number: `R-${s.transactionId}`,
        currency: 'EUR',
        total: '9.81',
        amount_paid: '9.81',
        amount_due: '0.00',
        payment_status: 'paid',
        lines: [
          {
            component: 'flat_fee',
            description: 'Session fee',
            quantity: '1',
            unit: 'session',
            unit_price: '1.5',
            amount: '1.50',
          },
          {
            component: 'per_kwh',
            description: 'Energy',
            quantity: '18.901',
            unit: 'kWh',
            unit_price: '0.39',
            amount: '7.37',
          },
          {
            component: 'per_minute',
            description: 'Charging time',
            quantity: '47',
            unit: 'min',
            unit_price: '0.02',
            amount: '0.94',
          },
        ],
      },
      payment: {
        object: 'payment',
        status: 'captured',
        provider_payment_id: 'pi_123',
        amount_authorized: '40.00',
        amount_captured: '9.81',
      },
    });
  });

  it('answers the session without running cost when the workflow query fails or hangs', async () => {
    const s = await insertSession('starting');
    h.runningCost.mockRejectedValueOnce(new Error('workflow not found'));
    const failed = await acme.call('GET', `/sessions/${s.id}`);
    expect(failed.status).toBe(200);
    expect(failed.body.running_cost).toBeNull();
    h.runningCost.mockImplementationOnce(() => new Promise(() => undefined));
    const started = Date.now();
    const hung = await acme.call('GET', `/sessions/${s.id}`);
    expect(hung.status).toBe(200);
    expect(hung.body.running_cost).toBeNull();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(h.logs.filter((l) => l.level === 'warn' && l.fields.sessionId === s.id)).toHaveLength(2);
  });

  it("another organization's session and an unknown id -> 404", async () => {
    const s = await insertSession('active');
    expectError(await globex.call('GET', `/sessions/${s.id}`), 404, null, 'resource_missing');
    expectError(await acme.call('GET', '/sessions/ses_nope'), 404, null, 'resource_missing');
  });
});

describe('GET /sessions', () => {
  it('lists the organization sessions, filtered by status', async () => {
    const done = await insertCompleted();
    const unbilled = await insertSession('unbilled', { status_reason: 'no tariff' });
    const all = (await acme.call('GET', '/sessions?limit=100')).body;
    const ids = all.data.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining([done.id, unbilled.id]));
    expect(ids).toEqual([...ids].sort());
    const listed = all.data.find((s: { id: string }) => s.id === done.id);
    expect(listed.receipt.total).toBe('9.81');
    expect(listed).not.toHaveProperty('running_cost');
    const filtered = (await acme.call('GET', '/sessions?status=unbilled')).body;
    expect(filtered.data.map((s: { id: string }) => s.id)).toEqual([unbilled.id]);
    expect(filtered.data[0].status_reason).toBe('no tariff');
    expect((await globex.call('GET', '/sessions')).body.data).toEqual([]);
  });

  it('filters by charge point: what a charge point is doing now', async () => {
    const live = await insertSession('active');
    const mine = (
      await acme.call('GET', `/sessions?charge_point_id=${chargePointId}&status=active&limit=100`)
    ).body;
    expect(mine.data.map((s: { id: string }) => s.id)).toContain(live.id);
    expect(mine.data.every((s: { status: string }) => s.status === 'active')).toBe(true);
    expect((await acme.call('GET', '/sessions?charge_point_id=cp_other')).body.data).toEqual([]);
  });

  it('refuses an unknown status filter', async () => {
    expectError(await acme.call('GET', '/sessions?status=paid'), 400, 'status', 'parameter_invalid');
  });
});
