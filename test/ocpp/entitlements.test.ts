import { newId } from '../../db/ids';
import { allocateTransaction } from '../../db/repositories/sessions';
import { createEntitlementCache, EntitlementCache, TagCheck } from '../../ocpp/billing/entitlements';
import { createTestDatabase, TestDatabase } from '../support/database';
import { Fixture, insertBillingFixture } from '../support/fixtures';
import { captureLogger, LogEntry } from './helpers';

// The cache against the real PostgreSQL: filled at start, kept current by NOTIFY, correct while it has
// lost its listening connection.

let tdb: TestDatabase;
let cache: EntitlementCache;
let fx: Fixture;
let other: Fixture;
let logs: LogEntry[];
const NOW = new Date('2026-11-23T12:00:00Z');

const at = (f: Fixture, concurrency = false, chargePointId = f.chargePointId): TagCheck => ({
  organizationId: f.organizationId,
  chargePointId,
  concurrency,
});

/** Notifications arrive asynchronously after commit: wait (bounded) for the expected answer. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && JSON.stringify(value) !== JSON.stringify(expected); i++) {
    await new Promise((r) => setTimeout(r, 20));
    value = await read();
  }
  return value;
}

const status = async (tag: string, check: TagCheck, now = NOW) =>
  (await cache.idTagInfo(check, tag, now)).status;

beforeAll(async () => {
  tdb = await createTestDatabase('entitlements');
  fx = await insertBillingFixture(tdb.db, { identity: 'CP-ENT-1', idTag: 'TAG-ENT-1' });
  other = await insertBillingFixture(tdb.db, { identity: 'CP-ENT-2', idTag: 'TAG-ENT-2' });
  const captured = captureLogger();
  logs = captured.entries;
  cache = createEntitlementCache(tdb.db, { log: captured.log, reconnectMs: 50 });
  await cache.start();
});

afterAll(async () => {
  await cache.close();
  await tdb.drop();
});

describe('entitlement cache', () => {
  it('loads every tag at start and answers in any case, only in its own organization', async () => {
    expect(cache.size()).toBe(2);
    expect(await status('TAG-ENT-1', at(fx))).toBe('Accepted');
    expect(await status('tag-ent-1', at(fx))).toBe('Accepted');
    expect(await status('TAG-ENT-1', at(other))).toBe('Invalid');
    expect(await status('NOBODY', at(fx))).toBe('Invalid');
    expect(await cache.get('TAG-ENT-1')).toMatchObject({
      userId: fx.userId,
      userType: 'public',
      paymentReady: true,
    });
  });

  it('sees a blocked tag, then an unblocked one, within moments of the commit', async () => {
    await tdb.db('id_tags').where({ id_tag: 'TAG-ENT-1' }).update({ status: 'Blocked' });
    expect(await eventually(() => status('TAG-ENT-1', at(fx)), 'Blocked')).toBe('Blocked');
    await tdb.db('id_tags').where({ id_tag: 'TAG-ENT-1' }).update({ status: 'Accepted' });
    expect(await eventually(() => status('TAG-ENT-1', at(fx)), 'Accepted')).toBe('Accepted');
  });

  it('expires a tag by the clock, without any change in the database', async () => {
    await tdb
      .db('id_tags')
      .where({ id_tag: 'TAG-ENT-2' })
      .update({ expires_at: new Date('2026-12-01T00:00:00Z') });
    const later = new Date('2026-12-01T00:00:01Z');
    expect(await eventually(() => status('TAG-ENT-2', at(other), later), 'Expired')).toBe('Expired');
    expect(await status('TAG-ENT-2', at(other), NOW)).toBe('Accepted');
  });

  it("follows the user's changes: membership, user type and payment method", async () => {
    const until = new Date('2026-11-30T00:00:00Z');
    await tdb
      .db('users')
      .where({ id: fx.userId })
      .update({ membership_valid_until: until, payment_method_id: null });
    const read = async () => {
      const e = await cache.get('TAG-ENT-1');
      return [e?.membershipValidUntil?.toISOString(), e?.paymentReady];
    };
    expect(await eventually(read, [until.toISOString(), false])).toEqual([until.toISOString(), false]);
  });

  it('adds a new tag and forgets a deleted one', async () => {
    await tdb.db('id_tags').insert({
      id: newId('tag'),
      organization_id: fx.organizationId,
      id_tag: 'TAG-ENT-NEW',
      user_id: fx.userId,
      type: 'app',
    });
    expect(await eventually(() => status('TAG-ENT-NEW', at(fx)), 'Accepted')).toBe('Accepted');
    await tdb.db('id_tags').where({ id_tag: 'TAG-ENT-NEW' }).delete();
    expect(await eventually(() => status('TAG-ENT-NEW', at(fx)), 'Invalid')).toBe('Invalid');
  });

  it('answers ConcurrentTx at another charge point while the tag is in a live session, not at its own', async () => {
    const session = await allocateTransaction(tdb.db, {
      organizationId: fx.organizationId,
      chargePointId: fx.chargePointId,
      chargePointIdentity: fx.identity,
      connectorId: 1,
      idTag: 'TAG-ENT-1',
      meterStartWh: '0',
      startedAt: NOW,
      workflowIdFor: (tx) => `charging-session:${fx.identity}:${tx}`,
    });
    const elsewhere = at(fx, true, 'cp_elsewhere');
    expect(await eventually(() => status('TAG-ENT-1', elsewhere), 'ConcurrentTx')).toBe('ConcurrentTx');
    expect(await status('TAG-ENT-1', at(fx, true))).toBe('Accepted');
    expect(await status('TAG-ENT-1', at(fx, false, 'cp_elsewhere'))).toBe('Accepted');
    await tdb.db('charging_sessions').where({ id: session.id }).update({ status: 'completed' });
    expect(await eventually(() => status('TAG-ENT-1', elsewhere), 'Accepted')).toBe('Accepted');
  });

  it('stays correct when its listening connection is killed, and catches up after reconnecting', async () => {
    const killed = await tdb.db.raw(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`,
    );
    expect(killed.rows).toHaveLength(1);
    await tdb.db('id_tags').where({ id_tag: 'TAG-ENT-2' }).update({ status: 'Blocked' });
    expect(await eventually(() => status('TAG-ENT-2', at(other)), 'Blocked')).toBe('Blocked');
    // After the reconnect, notifications flow again.
    await new Promise((r) => setTimeout(r, 200));
    await tdb.db('id_tags').where({ id_tag: 'TAG-ENT-2' }).update({ status: 'Accepted' });
    expect(await eventually(() => status('TAG-ENT-2', at(other)), 'Accepted')).toBe('Accepted');
    expect(cache.size()).toBe(2);
    expect(logs.map((l) => l.msg)).toContain(
      'entitlement listener lost; answering from the database until it is back',
    );
  });
});
