import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RPCClient } from 'ocpp-rpc';
import WebSocket from 'ws';
import { Dec } from '../../pricing/money';
import { connectChargePoint } from '../../bin/ocpp-client';
import { collectReceipts, FleetOptions, provisionFleet, runFleet } from '../../bin/sim/fleet';
import { startBillingServer, RunningServer } from '../../bin/server';
import { createApiKey, createOrganization } from '../../db/repositories/organizations';
import { createTestDatabase, TestDatabase } from '../support/database';
import { startTemporal } from '../support/temporal';
import { RunningWorker, startWorker } from '../support/worker';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const TASK_QUEUE = 'e2e-sessions';
const IDENTITY = 'CP-E2E-1';
const PASSWORD = 'e2e-secret-password-1';
const ID_TAG = 'E2E-TAG-1';

let tdb: TestDatabase;
let env: TestWorkflowEnvironment;
let worker: RunningWorker;
let server: RunningServer;
let apiKey: string;
let siteId: string;

// Response bodies are checked field by field below; a typed client would only restate the API here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${server.apiUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A raw socket for frames no strict client would send. */
async function rawSocket(): Promise<{ send(frame: string): Promise<unknown[]>; close(): void }> {
  const auth = Buffer.from(`${IDENTITY}:${PASSWORD}`).toString('base64');
  const ws = new WebSocket(`${server.ocppUrl}/${IDENTITY}`, ['ocpp1.6'], {
    headers: { Authorization: `Basic ${auth}` },
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    send: (frame) =>
      new Promise((resolve) => {
        ws.once('message', (data) => resolve(JSON.parse(String(data))));
        ws.send(frame);
      }),
    close: () => ws.close(),
  };
}

/** A strict ocpp-rpc client for the test charge point, for tests that answer the central system's calls. */
const strictClient = () =>
  new RPCClient({
    endpoint: server.ocppUrl,
    identity: IDENTITY,
    password: PASSWORD,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
  } as ConstructorParameters<typeof RPCClient>[0]);

const startServer = () =>
  startBillingServer({
    db: tdb.db,
    client: env.client,
    taskQueue: TASK_QUEUE,
    host: '127.0.0.1',
    apiPort: 0,
    ocppPort: 0,
    payments: worker.payments,
    preAuthorizationTimeoutSeconds: 2,
  });

const rowCounts = async () => {
  const counts: Record<string, unknown> = {};
  for (const t of ['charging_sessions', 'payments', 'receipts', 'outbox', 'connectors']) {
    counts[t] = (await tdb.db(t).count({ n: '*' }).first())?.n;
  }
  return counts;
};

beforeAll(async () => {
  tdb = await createTestDatabase('e2e');
  env = await startTemporal();
  worker = await startWorker(env, tdb.db, TASK_QUEUE);
  server = await startServer();
  const org = await createOrganization(tdb.db, { name: 'E2E Charging' });
  apiKey = (await createApiKey(tdb.db, org.id, 'e2e')).secret;

  const project = await api('POST', '/projects', { name: 'Garages' });
  const site = await api('POST', '/sites', {
    project_id: project.id,
    name: 'Main Street',
    time_zone: 'Europe/Berlin',
  });
  await api('POST', '/charge-points', {
    identity: IDENTITY,
    site_id: site.id,
    password: PASSWORD,
    hold_amount: '40.00',
  });
  const tariff = await api('POST', '/tariffs', {
    name: 'Standard',
    currency: 'EUR',
    components: [
      { type: 'flat_fee', price: '1.50' },
      { type: 'per_kwh', price: '0.39' },
      { type: 'per_minute', price: '0.02' },
    ],
  });
  await api('POST', `/tariffs/${tariff.id}/assignments`, { scope_type: 'site', scope_id: site.id });
  siteId = site.id;
  const user = await api('POST', '/users', {
    email: 'driver@example.com',
    name: 'Dana Driver',
    user_type: 'public',
    payment_method_id: 'pm_card_visa',
  });
  await api('POST', '/id-tags', { id_tag: ID_TAG, user_id: user.id, type: 'rfid' });
});

afterAll(async () => {
  await server?.close();
  await worker?.stop();
  await env?.teardown();
  await tdb?.drop();
});

describe('a charge point session through the OCPP bridge, end to end', () => {
  it('Boot, Authorize, Start, MeterValues x N, Stop -> receipt over the API and capture at the provider', async () => {
    const cp = await connectChargePoint({ endpoint: server.ocppUrl, identity: IDENTITY, password: PASSWORD });
    type TagReply = { idTagInfo: { status: string } };
    const boot = await cp.call<{ status: string }>('BootNotification', {
      chargePointVendor: 'E2E',
      chargePointModel: 'Tester',
    });
    expect(boot.status).toBe('Accepted');
    expect((await cp.call<TagReply>('Authorize', { idTag: ID_TAG })).idTagInfo.status).toBe('Accepted');
    expect((await cp.call<TagReply>('Authorize', { idTag: 'NOBODY' })).idTagInfo.status).toBe('Invalid');

    const t0 = Date.parse('2026-11-23T08:00:00Z');
    const at = (min: number) => new Date(t0 + min * 60_000).toISOString();
    await cp.call('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Charging',
      timestamp: at(0),
    });
    const start = { connectorId: 1, idTag: ID_TAG, meterStart: 250_000, timestamp: at(0) };
    const started = await cp.call<TagReply & { transactionId: number }>('StartTransaction', start);
    expect(started.idTagInfo.status).toBe('Accepted');
    // The same StartTransaction again (lost reply) answers the same transaction.
    expect((await cp.call<{ transactionId: number }>('StartTransaction', start)).transactionId).toBe(
      started.transactionId,
    );

    for (let i = 1; i <= 5; i++) {
      await cp.call('MeterValues', {
        connectorId: 1,
        transactionId: started.transactionId,
        meterValue: [
          {
            timestamp: at(i * 8),
            sampledValue: [
              {
                value: String((250 + i * 3.5).toFixed(3)),
                measurand: 'Energy.Active.Import.Register',
                unit: 'kWh',
              },
              { value: '21000', measurand: 'Power.Active.Import', unit: 'W' },
            ],
          },
        ],
      });
    }
    const sessions = await api('GET', '/sessions?limit=10');
    const live = sessions.data.find(
      (s: { transaction_id: number }) => s.transaction_id === started.transactionId,
    );
    let during = await api('GET', `/sessions/${live.id}`);
    // The tariff is pinned by the workflow's first activity; until then the session is 'starting'.
    for (let i = 0; i < 50 && !during.running_cost?.priced; i++) {
      await new Promise((r) => setTimeout(r, 100));
      during = await api('GET', `/sessions/${live.id}`);
    }
    // 17.5 kWh * 0.39 = 6.825 -> 6.83; 40 min * 0.02 = 0.80; + 1.50
    expect(during.running_cost.priced.total).toBe('9.13');

    // The car stops drawing at 45 min and is unplugged at 47: charging time ends with the status.
    await cp.call('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'SuspendedEV',
      timestamp: at(45),
    });
    const stop = await cp.call<TagReply>('StopTransaction', {
      transactionId: started.transactionId,
      idTag: ID_TAG,
      meterStop: 268_901,
      timestamp: at(47),
      reason: 'EVDisconnected',
    });
    expect(stop.idTagInfo.status).toBe('Accepted');
    await cp.close();

    let session = await api('GET', `/sessions/${live.id}`);
    for (let i = 0; i < 60 && !session.receipt; i++) {
      await new Promise((r) => setTimeout(r, 500));
      session = await api('GET', `/sessions/${live.id}`);
    }
    // 18.901 kWh * 0.39 = 7.37139 -> 7.37; 45 charging min * 0.02 = 0.90; + 1.50 = 9.77
    expect(session.status).toBe('completed');
    expect(session.receipt.total).toBe('9.77');
    expect(session.receipt.lines.map((l: { amount: string }) => l.amount)).toEqual(['1.50', '7.37', '0.90']);
    const sum = session.receipt.lines.reduce((s: Dec, l: { amount: string }) => s.add(l.amount), new Dec(0));
    expect(sum.eq(session.receipt.total)).toBe(true);
    expect(session.receipt.amount_due).toBe('0.00');
    expect(session.payment.status).toBe('captured');

    const intent = worker.fake.paymentIntent(session.payment.provider_payment_id);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 4000, amount_received: 977 });
  });

  it('asks the charge point to stop when the hold is declined, and bills what was delivered as due', async () => {
    const user = await api('POST', '/users', {
      email: 'declined@example.com',
      name: 'Dee Clined',
      user_type: 'public',
      payment_method_id: 'pm_card_chargeDeclined',
    });
    await api('POST', '/id-tags', { id_tag: 'E2E-DECLINED', user_id: user.id, type: 'rfid' });
    const cp = strictClient();
    const stopRequested = new Promise<{ transactionId: number }>((resolve) => {
      cp.handle('RemoteStopTransaction', async ({ params }) => {
        resolve(params as { transactionId: number });
        return { status: 'Accepted' };
      });
    });
    await cp.connect();
    try {
      const t0 = Date.parse('2026-11-23T09:00:00Z');
      const started = (await cp.call('StartTransaction', {
        connectorId: 2,
        idTag: 'E2E-DECLINED',
        meterStart: 1_000,
        timestamp: new Date(t0).toISOString(),
      })) as { transactionId: number };
      // The workflow's request reaches this charge point through the command queue and the bridge.
      expect(await stopRequested).toEqual({ transactionId: started.transactionId });
      await cp.call('StopTransaction', {
        transactionId: started.transactionId,
        meterStop: 3_000,
        timestamp: new Date(t0 + 2 * 60_000).toISOString(),
        reason: 'Remote',
      });
    } finally {
      await cp.close({ code: 1000 });
    }
    const sessions = await api('GET', '/sessions?status=completed&limit=100');
    const declined = sessions.data.find((s: { id_tag: string }) => s.id_tag === 'E2E-DECLINED');
    let session = declined && (await api('GET', `/sessions/${declined.id}`));
    for (let i = 0; i < 60 && !session?.receipt; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const list = await api('GET', '/sessions?limit=100');
      const s = list.data.find((x: { id_tag: string }) => x.id_tag === 'E2E-DECLINED');
      session = s && (await api('GET', `/sessions/${s.id}`));
    }
    // 2 kWh * 0.39 = 0.78; 2 min * 0.02 = 0.04; + 1.50
    expect(session.receipt).toMatchObject({ total: '2.32', amount_due: '2.32', payment_status: 'unpaid' });
    const commands = await tdb.db('charge_point_commands').where({ action: 'RemoteStopTransaction' });
    expect(commands).toEqual([
      expect.objectContaining({ status: 'answered', response: { status: 'Accepted' } }),
    ]);
  });

  it('asks the charge point to stop when the hold cannot grow and the policy says stop', async () => {
    await api('POST', '/user-types', { name: 'capped' });
    await api('PUT', '/hold-policies', {
      user_type: 'capped',
      amount: '5.00',
      currency: 'EUR',
      on_limit: 'stop',
    });
    const user = await api('POST', '/users', {
      email: 'capped@example.com',
      name: 'Cap Ped',
      user_type: 'capped',
      payment_method_id: 'pm_card_visa_increment_declined',
    });
    await api('POST', '/id-tags', { id_tag: 'E2E-CAPPED', user_id: user.id, type: 'rfid' });
    const cp = strictClient();
    const stopRequested = new Promise<{ transactionId: number }>((resolve) => {
      cp.handle('RemoteStopTransaction', async ({ params }) => {
        resolve(params as { transactionId: number });
        return { status: 'Accepted' };
      });
    });
    await cp.connect();
    try {
      const t0 = Date.parse('2026-11-23T11:00:00Z');
      const { transactionId } = (await cp.call('StartTransaction', {
        connectorId: 4,
        idTag: 'E2E-CAPPED',
        meterStart: 0,
        timestamp: new Date(t0).toISOString(),
      })) as { transactionId: number };
      // 7 kWh in 5 min: 1.50 + 2.73 + 0.10 = 4.33, past 80 % of the 5.00 hold; the card refuses more.
      await cp.call('MeterValues', {
        connectorId: 4,
        transactionId,
        meterValue: [
          {
            timestamp: new Date(t0 + 5 * 60_000).toISOString(),
            sampledValue: [{ value: '7000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
          },
        ],
      });
      expect(await stopRequested).toEqual({ transactionId });
      await cp.call('StopTransaction', {
        transactionId,
        meterStop: 7_500,
        timestamp: new Date(t0 + 6 * 60_000).toISOString(),
        reason: 'Remote',
      });
    } finally {
      await cp.close({ code: 1000 });
    }
    const list = await api('GET', '/sessions?limit=100');
    const capped = list.data.find((x: { id_tag: string }) => x.id_tag === 'E2E-CAPPED');
    let timeline = await api('GET', `/sessions/${capped.id}/payment-timeline`);
    for (let i = 0; i < 60 && !timeline.data.some((m: { kind: string }) => m.kind === 'capture'); i++) {
      await new Promise((r) => setTimeout(r, 250));
      timeline = await api('GET', `/sessions/${capped.id}/payment-timeline`);
    }
    // 7.5 kWh * 0.39 = 2.925 -> 2.93; 6 min * 0.02 = 0.12; + 1.50 = 4.55, within the 5.00 hold.
    expect(
      timeline.data.map((m: { kind: string; status: string; amount: string }) => [
        m.kind,
        m.status,
        m.amount,
      ]),
    ).toEqual([
      ['authorization', 'succeeded', '5.00'],
      ['increment', 'declined', '10.00'],
      ['capture', 'succeeded', '4.55'],
    ]);
  });

  it('holds the money before a remote start: adopted by the session, released when refused or never started', async () => {
    const cp = strictClient();
    let answer = 'Accepted';
    cp.handle('RemoteStartTransaction', async () => ({ status: answer }));
    await cp.connect();
    const cpId = (await api('GET', '/charge-points?limit=100')).data.find(
      (c: { identity: string }) => c.identity === IDENTITY,
    ).id;
    const intentOf = (id: string) =>
      worker.fake.listPaymentIntents().find((pi) => pi.metadata?.pre_authorization_id === id)!;
    try {
      // Refused by the charge point: the hold goes back at once.
      answer = 'Rejected';
      const refused = await api('POST', `/charge-points/${cpId}/remote-start`, {
        id_tag: ID_TAG,
        connector_id: 5,
      });
      expect(refused).toMatchObject({
        status: 'Rejected',
        pre_authorization: { amount: '40.00', status: 'released' },
      });
      expect(intentOf(refused.pre_authorization.id).status).toBe('canceled');

      // Accepted, but the car never starts: released when the 2 s wait is over.
      answer = 'Accepted';
      const idle = await api('POST', `/charge-points/${cpId}/remote-start`, {
        id_tag: ID_TAG,
        connector_id: 5,
      });
      expect(idle.pre_authorization.status).toBe('pending');
      expect(intentOf(idle.pre_authorization.id).status).toBe('requires_capture');
      const expired = await env.client.workflow
        .getHandle(`pre-authorization:${idle.pre_authorization.id}`)
        .result();
      expect(expired).toBe(true);
      expect(intentOf(idle.pre_authorization.id).status).toBe('canceled');

      // Accepted and started: the session captures the hold placed before it, and places none of its own.
      const started = await api('POST', `/charge-points/${cpId}/remote-start`, {
        id_tag: ID_TAG,
        connector_id: 5,
      });
      const t0 = Date.parse('2026-11-23T12:00:00Z');
      const tx = (await cp.call('StartTransaction', {
        connectorId: 5,
        idTag: ID_TAG,
        meterStart: 0,
        timestamp: new Date(t0).toISOString(),
      })) as { transactionId: number };
      await cp.call('StopTransaction', {
        transactionId: tx.transactionId,
        meterStop: 2_000,
        timestamp: new Date(t0 + 10 * 60_000).toISOString(),
        reason: 'Remote',
      });
      const workflowId = `charging-session:${IDENTITY}:${tx.transactionId}`;
      await env.client.workflow.getHandle(workflowId).result();
      const intent = intentOf(started.pre_authorization.id);
      // 2 kWh * 0.39 = 0.78; 10 min * 0.02 = 0.20; + 1.50
      expect(intent).toMatchObject({ status: 'succeeded', amount_received: 248 });
      expect(
        await env.client.workflow.getHandle(`pre-authorization:${started.pre_authorization.id}`).result(),
      ).toBe(false);
      const list = await api('GET', '/sessions?limit=100');
      const session = list.data.find(
        (x: { transaction_id: number }) => x.transaction_id === tx.transactionId,
      );
      const timeline = await api('GET', `/sessions/${session.id}/payment-timeline`);
      expect(
        timeline.data.map((m: { kind: string; amount: string; provider_reference: string }) => [
          m.kind,
          m.amount,
          m.provider_reference,
        ]),
      ).toEqual([
        ['authorization', '40.00', intent.id],
        ['capture', '2.48', intent.id],
      ]);
    } finally {
      await cp.close({ code: 1000 });
    }
  });

  it('bills every session of a simulated fleet exactly once through dropped connections and offline spells', async () => {
    const opts: FleetOptions = {
      endpoint: server.ocppUrl,
      api: server.apiUrl,
      apiKey,
      siteId,
      chargePoints: 3,
      sessionsPerChargePoint: 2,
      kwh: 2,
      minutes: 10,
      meterIntervalSeconds: 120,
      dropRate: 0,
      offlineRate: 0,
      offlineMs: 300,
      prefix: 'SIM',
      faultPlan: ['none', 'drop', 'offline'],
    };
    const sessions = await runFleet(opts, await provisionFleet(opts));
    expect(sessions.map((s) => s.fault).sort()).toEqual([
      'drop',
      'drop',
      'none',
      'none',
      'offline',
      'offline',
    ]);
    const receipts = await collectReceipts(opts, sessions);
    expect(receipts.size).toBe(6);
    // 2 kWh * 0.39 = 0.78; 10 min * 0.02 = 0.20; + 1.50
    for (const [, session] of receipts) {
      expect({
        energy: session.energy_kwh,
        total: session.receipt?.total,
        duplicates: session.duplicates,
      }).toEqual({
        energy: '2.000',
        total: '2.48',
        duplicates: 0,
      });
    }
  });

  it('loses nothing when the bridge restarts mid-session: the charge point reconnects and carries on', async () => {
    const t0 = Date.parse('2026-11-23T10:00:00Z');
    const at = (min: number) => new Date(t0 + min * 60_000).toISOString();
    const meter = (transactionId: number, min: number, wh: number) => ({
      connectorId: 3,
      transactionId,
      meterValue: [{ timestamp: at(min), sampledValue: [{ value: String(wh), unit: 'Wh' }] }],
    });
    let cp = await connectChargePoint({ endpoint: server.ocppUrl, identity: IDENTITY, password: PASSWORD });
    const started = await cp.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 3,
      idTag: ID_TAG,
      meterStart: 500_000,
      timestamp: at(0),
    });
    await cp.call('MeterValues', meter(started.transactionId, 10, 504_000));
    // The bridge process goes away with the charge point connected; a new one starts.
    await server.close();
    await cp.close().catch(() => undefined);
    server = await startServer();
    cp = await connectChargePoint({ endpoint: server.ocppUrl, identity: IDENTITY, password: PASSWORD });
    try {
      await cp.call('MeterValues', meter(started.transactionId, 20, 508_000));
      await cp.call('StopTransaction', {
        transactionId: started.transactionId,
        meterStop: 510_000,
        timestamp: at(25),
        reason: 'Local',
      });
    } finally {
      await cp.close();
    }
    let session: Json;
    for (let i = 0; i < 60 && !session?.receipt; i++) {
      const list = await api('GET', '/sessions?limit=100');
      const s = list.data.find((x: { transaction_id: number }) => x.transaction_id === started.transactionId);
      session = s && (await api('GET', `/sessions/${s.id}`));
      if (!session?.receipt) await new Promise((r) => setTimeout(r, 500));
    }
    // 10 kWh * 0.39 = 3.90; 25 min * 0.02 = 0.50; + 1.50
    expect(session.receipt.total).toBe('5.90');
    expect(session.energy_kwh).toBe('10.000');
    // Both readings reached the session's workflow, the one from before the restart too.
    const workflowId = `charging-session:${IDENTITY}:${started.transactionId}`;
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const delivered = (history.events ?? [])
      .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'meterValuesV1')
      .flatMap((e) =>
        (e.workflowExecutionSignaledEventAttributes!.input!.payloads ?? []).flatMap(
          (p) => defaultPayloadConverter.fromPayload(p) as { energyWh?: string }[],
        ),
      )
      .map((r) => r.energyWh);
    expect(delivered).toEqual(['504000', '508000']);
  });

  it('acknowledges a stop of a transaction it never saw, once, as an orphan session for the operator', async () => {
    const cp = await connectChargePoint({ endpoint: server.ocppUrl, identity: IDENTITY, password: PASSWORD });
    const stop = {
      transactionId: 987654,
      idTag: ID_TAG,
      meterStop: 301_250,
      timestamp: '2026-11-22T23:10:00Z',
      reason: 'PowerLoss',
    };
    try {
      const reply = await cp.call<{ idTagInfo: { status: string } }>('StopTransaction', stop);
      expect(reply.idTagInfo.status).toBe('Accepted');
      await cp.call('StopTransaction', stop); // the lost reply's resend
    } finally {
      await cp.close();
    }
    const open = await api('GET', '/orphan-sessions?resolved=false');
    const mine = open.data.filter((o: { transaction_id: number }) => o.transaction_id === 987654);
    expect(mine).toEqual([
      expect.objectContaining({
        object: 'orphan_session',
        id_tag: ID_TAG,
        meter_stop_wh: '301250',
        stopped_at: '2026-11-22T23:10:00.000Z',
        stop_reason: 'PowerLoss',
        resolved_at: null,
      }),
    ]);
    const resolved = await api('POST', `/orphan-sessions/${mine[0].id}/resolve`, {
      resolution: 'Billed manually, invoice 42',
    });
    expect(resolved).toMatchObject({
      resolution: 'Billed manually, invoice 42',
      resolved_at: expect.any(String),
    });
    const left = await api('GET', '/orphan-sessions?resolved=false');
    expect(left.data.some((o: { id: string }) => o.id === mine[0].id)).toBe(false);
  });

  it('answers DataTransfer from a vendor it does not know with UnknownVendorId', async () => {
    const cp = await connectChargePoint({ endpoint: server.ocppUrl, identity: IDENTITY, password: PASSWORD });
    try {
      const reply = await cp.call<{ status: string }>('DataTransfer', {
        vendorId: 'com.example',
        messageId: 'x',
      });
      expect(reply).toEqual({ status: 'UnknownVendorId' });
    } finally {
      await cp.close();
    }
  });

  it('answers bad OCPP input with the 1.6 error code and writes nothing', async () => {
    const before = await rowCounts();
    const sock = await rawSocket();
    try {
      expect(
        await sock.send(
          '[2,"a1","StartTransaction",{"connectorId":1,"meterStart":0,"timestamp":"2026-11-23T08:00:00Z"}]',
        ),
      ).toEqual([4, 'a1', 'OccurenceConstraintViolation', expect.stringContaining('idTag'), {}]);
      expect(
        await sock.send(
          '[2,"a2","StartTransaction",{"connectorId":"one","idTag":"X","meterStart":0,"timestamp":"2026-11-23T08:00:00Z"}]',
        ),
      ).toEqual([4, 'a2', 'TypeConstraintViolation', expect.stringContaining('connectorId'), {}]);
      expect(
        await sock.send(
          '[2,"a3","StopTransaction",{"transactionId":1,"meterStop":5,"timestamp":"yesterday"}]',
        ),
      ).toEqual([4, 'a3', 'PropertyConstraintViolation', expect.stringContaining('timestamp'), {}]);
      expect(
        await sock.send(
          '[2,"a4","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Dancing"}]',
        ),
      ).toEqual([4, 'a4', 'PropertyConstraintViolation', expect.stringContaining('status'), {}]);
      expect(await sock.send('[2,"a5","MakeCoffee",{}]')).toEqual([
        4,
        'a5',
        'NotImplemented',
        expect.any(String),
        {},
      ]);
      const meter = (id: string, value: string, timestamp = '2026-11-23T08:00:00Z') =>
        sock.send(
          JSON.stringify([
            2,
            id,
            'MeterValues',
            { connectorId: 1, transactionId: 1, meterValue: [{ timestamp, sampledValue: [{ value }] }] },
          ]),
        );
      expect(await meter('a6', 'NaN')).toEqual([
        4,
        'a6',
        'PropertyConstraintViolation',
        expect.stringContaining('is not a number'),
        {},
      ]);
      expect((await meter('a7', '-5'))[2]).toBe('PropertyConstraintViolation');
      expect((await meter('a8', '100', '2099-01-01T00:00:00Z'))[3]).toContain('in the future');
      expect((await sock.send('this is not json'))[2]).toBe('FormationViolation');
    } finally {
      sock.close();
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses an unknown charge point and a wrong password at the WebSocket upgrade', async () => {
    const status = (identity: string, password: string) =>
      new Promise<number>((resolve) => {
        const auth = Buffer.from(`${identity}:${password}`).toString('base64');
        const ws = new WebSocket(`${server.ocppUrl}/${identity}`, ['ocpp1.6'], {
          headers: { Authorization: `Basic ${auth}` },
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await status('CP-NOT-REGISTERED', 'whatever-password')).toBe(401);
    expect(await status(IDENTITY, 'wrong-password-123456')).toBe(401);
  });
});
