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
let failingWorkflow: string | undefined;
let other: { id: string; workflow_id: string };
let logs: LogEntry[];
let relays: MeterRelay[] = [];

const bridge = {
  sendReadings: jest.fn(async (_workflowId: string, readings: MeterReading[]) => {
    if (temporalDown) throw new Error('connect ECONNREFUSED 127.0.0.1:7233');
    if (workflowGone) return false;
    if (_workflowId === failingWorkflow) throw new Error('deadline exceeded');
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
  other = await allocateTransaction(tdb.db, {
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId: 2,
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
  failingWorkflow = undefined;
  bridge.sendReadings.mockClear();
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
    expect(signals.flat()).toEqual([reading(1), reading(2), reading(3)]);
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

  it('commits messages that arrive together in one statement, and answers each once committed', async () => {
    const relay = newRelay();
    const inserts: string[] = [];
    const onQuery = (q: { sql: string }) => {
      if (q.sql.startsWith('insert into "meter_inbox"')) inserts.push(q.sql);
    };
    tdb.db.on('query', onQuery);
    try {
      await Promise.all(Array.from({ length: 200 }, (_, n) => relay.accept(session, [reading(n)])));
    } finally {
      tdb.db.off('query', onQuery);
    }
    expect(inserts.length).toBeLessThan(20);
    await relay.flush(session.workflow_id);
    expect(signals.flat()).toEqual(Array.from({ length: 200 }, (_, n) => reading(n)));
    expect(await inbox()).toBe(0);
  });

  it('signals each workflow once per pass, and one failing workflow holds up no other', async () => {
    failingWorkflow = other.workflow_id;
    await tdb.db('meter_inbox').insert(
      Array.from({ length: 6 }, (_, n) => ({
        session_id: n % 2 ? other.id : session.id,
        workflow_id: n % 2 ? other.workflow_id : session.workflow_id,
        readings: JSON.stringify([reading(n)]),
      })),
    );
    newRelay(20).start();
    await until(async () => (await inbox()) === 3);
    expect(signals).toEqual([[reading(0), reading(2), reading(4)]]);
    failingWorkflow = undefined;
    await until(async () => (await inbox()) === 0);
    expect(signals).toEqual([
      [reading(0), reading(2), reading(4)],
      [reading(1), reading(3), reading(5)],
    ]);
  });

  it('flushes one workflow without touching the others', async () => {
    failingWorkflow = other.workflow_id;
    const relay = newRelay();
    await tdb.db('meter_inbox').insert([
      { session_id: other.id, workflow_id: other.workflow_id, readings: JSON.stringify([reading(1)]) },
      { session_id: session.id, workflow_id: session.workflow_id, readings: JSON.stringify([reading(2)]) },
    ]);
    await relay.flush(session.workflow_id);
    await expect(relay.flush(other.workflow_id)).rejects.toThrow('deadline exceeded');
    expect(signals).toEqual([[reading(2)]]);
    expect(await inbox()).toBe(1);
  });
});

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached in 5 s');
}
