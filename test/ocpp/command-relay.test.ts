import { enqueueCommand, findCommandByKey } from '../../db/repositories/chargePointCommands';
import { CommandRelay, createCommandRelay, RelayLink } from '../../ocpp/billing/command-relay';
import { ChargePointUnavailable, OcppError } from '../../ocpp/errors';
import { createTestDatabase, TestDatabase } from '../support/database';
import { Fixture, insertBillingFixture } from '../support/fixtures';
import { captureLogger } from './helpers';

// Queued central-system calls against the real PostgreSQL: sent once by whichever bridge holds the charge
// point, retried while it is offline, closed when it answers with an error or the command expires.

let tdb: TestDatabase;
let fx: Fixture;
let seq = 0;

const fakeLink = (send: RelayLink['sendCall']): RelayLink & { sendCall: jest.Mock } => ({
  identities: () => [fx.identity],
  isConnected: (identity) => identity === fx.identity,
  sendCall: jest.fn(send),
});

const enqueue = (ttlMs = 60_000) =>
  enqueueCommand(tdb.db, {
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    action: 'RemoteStopTransaction',
    payload: { transactionId: ++seq },
    idempotencyKey: `test:${seq}`,
    ttlMs,
  });

// A claimed command is pending with its attempt counted before its outcome is written: `withError` waits for
// the outcome too.
async function settled(key: string, status: string, attempts = 1, withError = false) {
  const done = (c?: { status: string; attempts: number; error: string | null }) =>
    c?.status === status && c.attempts >= attempts && (!withError || c.error !== null);
  let command = await findCommandByKey(tdb.db, key);
  for (let i = 0; i < 100 && !done(command); i++) {
    await new Promise((r) => setTimeout(r, 20));
    command = await findCommandByKey(tdb.db, key);
  }
  return command;
}

beforeAll(async () => {
  tdb = await createTestDatabase('relay');
  fx = await insertBillingFixture(tdb.db, { identity: 'CP-RELAY-1', idTag: 'TAG-RELAY-1' });
});
afterAll(() => tdb.drop());

describe('command relay', () => {
  let relays: CommandRelay[] = [];
  const relay = async (link: RelayLink, maxAttempts = 3) => {
    const r = createCommandRelay(tdb.db, link, { log: captureLogger().log, sweepMs: 60_000, maxAttempts });
    await r.start();
    relays.push(r);
    return r;
  };
  afterEach(async () => {
    await Promise.all(relays.map((r) => r.close()));
    relays = [];
  });

  it('sends an announced command once, even with two bridges holding the charge point', async () => {
    const a = fakeLink(async () => ({ status: 'Accepted' }));
    const b = fakeLink(async () => ({ status: 'Accepted' }));
    await relay(a);
    await relay(b);
    const command = await enqueue();
    // A retried request is the same command.
    expect((await enqueueCommand(tdb.db, { ...command, payload: {}, ttlMs: 1 })).id).toBe(command.id);
    expect(await settled(command.idempotencyKey, 'answered')).toMatchObject({
      status: 'answered',
      response: { status: 'Accepted' },
      attempts: 1,
    });
    expect(a.sendCall.mock.calls.length + b.sendCall.mock.calls.length).toBe(1);
    const [identity, action, payload] = (a.sendCall.mock.calls[0] ?? b.sendCall.mock.calls[0]) as unknown[];
    expect([identity, action, payload]).toEqual(['CP-RELAY-1', 'RemoteStopTransaction', command.payload]);
  });

  it('keeps a command while the charge point is offline, and fails it after the last attempt', async () => {
    const link = fakeLink(async () => {
      throw new ChargePointUnavailable('offline', 'gone');
    });
    const r = await relay(link, 2);
    const command = await enqueue();
    expect(await settled(command.idempotencyKey, 'pending', 1, true)).toMatchObject({
      attempts: 1,
      error: 'gone',
    });
    await r.drain();
    expect(await settled(command.idempotencyKey, 'failed', 2)).toMatchObject({
      status: 'failed',
      attempts: 2,
    });
  });

  it('closes a command the charge point refuses with a CALLERROR, and one that expired unsent', async () => {
    const link = fakeLink(async () => {
      throw new OcppError('NotSupported', 'no remote stop here');
    });
    await relay(link);
    const refused = await enqueue();
    expect(await settled(refused.idempotencyKey, 'failed')).toMatchObject({
      error: 'NotSupported: no remote stop here',
    });

    const quiet = fakeLink(async () => ({ status: 'Accepted' }));
    quiet.isConnected = () => false;
    const r = await relay(quiet);
    const stale = await enqueue(1);
    await new Promise((res) => setTimeout(res, 20));
    quiet.isConnected = (identity) => identity === fx.identity;
    await r.drain();
    expect(await settled(stale.idempotencyKey, 'expired', 0)).toMatchObject({
      status: 'expired',
      attempts: 0,
    });
    expect(quiet.sendCall).not.toHaveBeenCalled();
  });
});
