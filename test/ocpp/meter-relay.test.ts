import { allocateTransaction } from '../../db/repositories/sessions';
import { createMeterRelay, MeterRelay } from '../../ocpp/billing/meter-relay';
import type { MeterReading } from '../../workflows/charging-session/messages';
import { createTestDatabase, TestDatabase } from '../support/database';
import { insertBillingFixture } from '../support/fixtures';
import { captureLogger, LogEntry } from './helpers';

// Durable MeterValues against the real PostgreSQL: acknowledged once stored, relayed in order, kept while
// Temporal is unreachable, and picked up by the sweep after a bridge died.

let tdb: TestDatabase;
let session: { id: string; workflow_id: string };
let signals: MeterReading[][];
let temporalDown: boolean;
let workflowGone: boolean;
let logs: LogEntry[];
let relays: MeterRelay[] = [];

const bridge = {
  sendReadings: jest.fn(async (_workflowId: string, readings: MeterReading[]) => {
    if (temporalDown) throw new Error('connect ECONNREFUSED 127.0.0.1:7233');
    if (workflowGone) return false;
    signals.push(readings);
    return true;
  }),
};

const reading = (n: number): MeterReading => ({
  timestamp: new Date(Date.UTC(2026, 10, 23, 8, 0, n)).toISOString(),
  energyWh: String(1000 + n),
});

const newRelay = (sweepMs = 60_000) => {
  const captured = captureLogger();
  logs = captured.entries;
  const relay = createMeterRelay(tdb.db, bridge, { log: captured.log, sweepMs });
  relays.push(relay);
  return relay;
};

const inbox = async () => Number((await tdb.db('meter_inbox').count({ n: '*' }).first())?.n);

beforeAll(async () => {
  tdb = await createTestDatabase('meterrelay');
  const fx = await insertBillingFixture(tdb.db, { identity: 'CP-RELAY-M', idTag: 'TAG-RELAY-M' });
  session = await allocateTransaction(tdb.db, {
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId: 1,
    idTag: fx.idTag,
    meterStartWh: '1000',
    startedAt: new Date('2026-11-23T08:00:00Z'),
    workflowIdFor: (tx) => `charging-session:${fx.identity}:${tx}`,
  });
});
afterAll(() => tdb.drop());

beforeEach(() => {
  signals = [];
  temporalDown = false;
  workflowGone = false;
});
afterEach(async () => {
  await Promise.all(relays.map((r) => r.close()));
  relays = [];
});

describe('meter relay', () => {
  it('relays accepted readings in arrival order and empties the inbox', async () => {
    const relay = newRelay();
    for (let n = 0; n < 20; n++) await relay.accept(session, [reading(n)]);
    await relay.flush(session.workflow_id);
    expect(signals.flat()).toEqual(Array.from({ length: 20 }, (_, n) => reading(n)));
    expect(await inbox()).toBe(0);
  });

  it('acknowledges while Temporal is down and delivers everything once it is back', async () => {
    const relay = newRelay();
    temporalDown = true;
    await relay.accept(session, [reading(1)]);
    await relay.accept(session, [reading(2), reading(3)]);
    await expect(relay.flush(session.workflow_id)).rejects.toThrow('ECONNREFUSED');
    expect(await inbox()).toBe(2);
    temporalDown = false;
    await relay.flush(session.workflow_id);
    expect(signals).toEqual([[reading(1), reading(2), reading(3)]]);
    expect(await inbox()).toBe(0);
  });

  it('sends a long backlog in batches, still in order', async () => {
    await tdb.db.batchInsert(
      'meter_inbox',
      Array.from({ length: 1200 }, (_, n) => ({
        session_id: session.id,
        workflow_id: session.workflow_id,
        readings: JSON.stringify([reading(n)]),
      })),
      300,
    );
    await newRelay().flush(session.workflow_id);
    expect(signals.map((s) => s.length)).toEqual([500, 500, 200]);
    expect(signals.flat()).toEqual(Array.from({ length: 1200 }, (_, n) => reading(n)));
  });

  it('picks up what a dead bridge left behind on its sweep', async () => {
    await tdb.db('meter_inbox').insert({
      session_id: session.id,
      workflow_id: session.workflow_id,
      readings: JSON.stringify([reading(7)]),
    });
    newRelay(20).start();
    for (let i = 0; i < 100 && (await inbox()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(signals).toEqual([[reading(7)]]);
  });

  it('drops readings of a session whose workflow has ended, and says so', async () => {
    const relay = newRelay();
    workflowGone = true;
    await relay.accept(session, [reading(9)]);
    await relay.flush(session.workflow_id);
    expect(await inbox()).toBe(0);
    expect(logs.map((l) => l.msg)).toContain('meter values for a session that has ended');
  });
});
