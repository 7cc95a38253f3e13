import { markSessionOpened, allocateTransaction } from '../../db/repositories/sessions';
import { createTestDatabase, TestDatabase } from '../support/database';
import { insertBillingFixture } from '../support/fixtures';

// An event commits with its change or not at all: when the event cannot be written, the change it
// describes is rolled back too; a repeated change writes no second event.

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase('outbox');
});
afterAll(async () => {
  await tdb?.drop();
});

it('writes the change and its event in one transaction, once', async () => {
  const { db } = tdb;
  const fx = await insertBillingFixture(db, { identity: 'CP-OUTBOX', idTag: 'TAG-OUTBOX' });
  const session = await allocateTransaction(db, {
    organizationId: fx.organizationId,
    chargePointId: fx.chargePointId,
    chargePointIdentity: fx.identity,
    connectorId: 1,
    idTag: fx.idTag,
    meterStartWh: '0',
    startedAt: new Date(),
    workflowIdFor: (tx) => `charging-session:${fx.identity}:${tx}`,
  });
  const opened = {
    userId: fx.userId,
    tariffVersionId: fx.tariffVersionId,
    currency: 'EUR',
    status: 'active' as const,
  };
  const events = () => db('outbox').where({ object_id: session.id, type: 'session.started' });

  await db.raw(`CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'outbox refused for the test'; END $$`);
  await db.raw(
    'CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox()',
  );
  await expect(markSessionOpened(db, session.id, opened)).rejects.toThrow(/outbox refused/);
  expect((await db('charging_sessions').where({ id: session.id }).first()).status).toBe('starting');
  expect(await events()).toEqual([]);

  await db.raw('DROP TRIGGER refuse_outbox ON outbox');
  await markSessionOpened(db, session.id, opened);
  await markSessionOpened(db, session.id, opened);
  expect((await db('charging_sessions').where({ id: session.id }).first()).status).toBe('active');
  const [event] = await events();
  expect(await events()).toHaveLength(1);
  expect(event.payload).toEqual(
    expect.objectContaining({ id: session.id, status: 'active', currency: 'EUR' }),
  );
  expect(event.published_at).toBeNull();
});
