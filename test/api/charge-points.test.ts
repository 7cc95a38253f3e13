import { allocateTransaction } from '../../db/repositories/sessions';
import {
  findChargePointByIdentity,
  hashChargePointPassword,
  recordBootNotification,
  upsertConnectorStatus,
  verifyChargePointPassword,
} from '../../db/repositories/chargePoints';
import { createSiteFor, expectError, Harness, startHarness, tableCounts, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;
let siteId: string;
let foreignSiteId: string;

beforeAll(async () => {
  h = await startHarness('charge_points');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  siteId = (await createSiteFor(acme)).site.id;
  foreignSiteId = (await createSiteFor(globex)).site.id;
});
afterAll(() => h.close());

const PASSWORD = 'correct-horse-battery';

describe('charge points: create and read', () => {
  it('creates with a password that is stored only as a scrypt hash and never answered', async () => {
    const res = await acme.call('POST', '/charge-points', {
      body: { identity: 'CP-1', site_id: siteId, password: PASSWORD, hold_amount: '40.00' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'charge_point',
      id: expect.stringMatching(/^cp_/),
      identity: 'CP-1',
      site_id: siteId,
      hold_amount: '40',
      has_password: true,
      connectors: [],
    });
    const read = await acme.call('GET', `/charge-points/${res.body.id}`);
    expect(read.body).toEqual(res.body);
    const row = await h.db('charge_points').where({ id: res.body.id }).first();
    expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    for (const text of [JSON.stringify(res.body), JSON.stringify(read.body)]) {
      expect(text).not.toContain(row.password_hash);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toMatch(/password_hash|scrypt/);
    }
  });

  it('creates without a password, with a numeric hold amount', async () => {
    const res = await acme.call('POST', '/charge-points', {
      body: { identity: 'CP 2 é', site_id: siteId, hold_amount: 25.5 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ identity: 'CP 2 é', hold_amount: '25.5', has_password: false });
    const list = await acme.call('GET', `/charge-points?site_id=${siteId}`);
    expect(list.body.data.map((c: { identity: string }) => c.identity)).toEqual(['CP-1', 'CP 2 é']);
  });

  it('shows connectors with their latest status; an older report does not overwrite a newer one', async () => {
    const cp = (
      await acme.call('POST', '/charge-points', {
        body: { identity: 'CP-3', site_id: siteId, hold_amount: '10' },
      })
    ).body;
    await upsertConnectorStatus(h.db, cp.id, {
      connectorId: 2,
      status: 'Available',
      at: new Date('2026-11-23T10:00:00Z'),
    });
    await upsertConnectorStatus(h.db, cp.id, {
      connectorId: 1,
      status: 'Charging',
      at: new Date('2026-11-23T10:05:00Z'),
    });
    await upsertConnectorStatus(h.db, cp.id, {
      connectorId: 1,
      status: 'Faulted',
      errorCode: 'GroundFailure',
      at: new Date('2026-11-23T10:01:00Z'),
    });
    await recordBootNotification(h.db, cp.id, {
      vendor: 'V',
      model: 'M',
      at: new Date('2026-11-23T09:00:00Z'),
    });
    const read = (await acme.call('GET', `/charge-points/${cp.id}`)).body;
    expect(read.connectors).toEqual([
      {
        connector_id: 1,
        status: 'Charging',
        error_code: 'NoError',
        info: null,
        status_at: '2026-11-23T10:05:00.000Z',
      },
      {
        connector_id: 2,
        status: 'Available',
        error_code: 'NoError',
        info: null,
        status_at: '2026-11-23T10:00:00.000Z',
      },
    ]);
    expect(read).toMatchObject({ vendor: 'V', model: 'M', last_boot_at: '2026-11-23T09:00:00.000Z' });
  });

  it('rotates the password: the new one verifies, the old one no longer does', async () => {
    const cp = (
      await acme.call('POST', '/charge-points', {
        body: { identity: 'CP-ROTATE', site_id: siteId, hold_amount: '10' },
      })
    ).body;
    expect(cp.has_password).toBe(false);
    const first = await acme.call('PATCH', `/charge-points/${cp.id}`, { body: { password: PASSWORD } });
    expect(first.body.has_password).toBe(true);
    const before = (await findChargePointByIdentity(h.db, 'CP-ROTATE'))!.password_hash!;
    await acme.call('PATCH', `/charge-points/${cp.id}`, { body: { password: 'another-long-secret-9' } });
    const after = (await findChargePointByIdentity(h.db, 'CP-ROTATE'))!.password_hash!;
    expect(await verifyChargePointPassword(before, PASSWORD)).toBe(true);
    expect(await verifyChargePointPassword(after, PASSWORD)).toBe(false);
    expect(await verifyChargePointPassword(after, 'another-long-secret-9')).toBe(true);
    expectError(
      await acme.call('PATCH', `/charge-points/${cp.id}`, { body: { password: 'short' } }),
      400,
      'password',
    );
    expect((await findChargePointByIdentity(h.db, 'CP-ROTATE'))!.password_hash).toBe(after);
  });

  it('shows the sessions running on each connector, and not those that stopped', async () => {
    const cp = (
      await acme.call('POST', '/charge-points', {
        body: { identity: 'CP-ACTIVE', site_id: siteId, hold_amount: '10' },
      })
    ).body;
    const start = (connectorId: number, startedAt: string) =>
      allocateTransaction(h.db, {
        organizationId: acme.org.id,
        chargePointId: cp.id,
        chargePointIdentity: 'CP-ACTIVE',
        connectorId,
        idTag: 'TAG-ACTIVE',
        meterStartWh: '0',
        startedAt: new Date(startedAt),
        workflowIdFor: (tx) => `charging-session:CP-ACTIVE:${tx}`,
      });
    const running = await start(2, '2026-11-23T10:00:00Z');
    const stopped = await start(1, '2026-11-23T08:00:00Z');
    await h
      .db('charging_sessions')
      .where({ id: stopped.id })
      .update({ status: 'completed', stopped_at: new Date('2026-11-23T09:00:00Z') });
    const read = (await acme.call('GET', `/charge-points/${cp.id}`)).body;
    expect(read.active_sessions).toEqual([
      {
        connector_id: 2,
        session_id: running.id,
        transaction_id: running.transaction_id,
        id_tag: 'TAG-ACTIVE',
        started_at: '2026-11-23T10:00:00.000Z',
      },
    ]);
  });
});

describe('charge point passwords (repository)', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const a = await hashChargePointPassword(PASSWORD);
    const b = await hashChargePointPassword(PASSWORD);
    expect(a).not.toBe(b);
    expect(await verifyChargePointPassword(a, PASSWORD)).toBe(true);
    expect(await verifyChargePointPassword(b, PASSWORD)).toBe(true);
    expect(await verifyChargePointPassword(a, PASSWORD + 'x')).toBe(false);
    expect(await verifyChargePointPassword(a, '')).toBe(false);
  });

  it('refuses malformed or tampered hashes instead of throwing', async () => {
    const good = await hashChargePointPassword(PASSWORD);
    const parts = good.split('$');
    const variants = [
      '',
      'plain',
      good.replace('scrypt', 'bcrypt'),
      [...parts.slice(0, 5), Buffer.from('short').toString('base64')].join('$'),
      [parts[0], String(1 << 24), ...parts.slice(2)].join('$'),
      [parts[0], '1000', ...parts.slice(2)].join('$'),
      [...parts.slice(0, 4), '', parts[5]].join('$'),
      [...parts.slice(0, 5), Buffer.alloc(32).toString('base64')].join('$'),
    ];
    for (const hash of variants) expect(await verifyChargePointPassword(hash, PASSWORD)).toBe(false);
  });

  it('findChargePointByIdentity answers the stored row with the hash, for the OCPP bridge', async () => {
    const row = await findChargePointByIdentity(h.db, 'CP-1');
    expect(row).toMatchObject({ identity: 'CP-1', organization_id: acme.org.id, site_id: siteId });
    expect(await verifyChargePointPassword(row!.password_hash!, PASSWORD)).toBe(true);
    expect(await findChargePointByIdentity(h.db, 'cp-1')).toBeUndefined();
    expect(await findChargePointByIdentity(h.db, 'CP-404')).toBeUndefined();
  });
});

describe('charge points: bad input', () => {
  let before: Record<string, number>;
  beforeEach(async () => {
    before = await tableCounts(h.db);
  });
  afterEach(async () => {
    expect(await tableCounts(h.db)).toEqual(before);
  });

  const base = () => ({ identity: 'CP-NEW', site_id: siteId, hold_amount: '50.00' });
  it.each<[string, () => Record<string, unknown>, number, string, string]>([
    ['missing identity', () => ({ ...base(), identity: undefined }), 400, 'identity', 'parameter_missing'],
    ['empty identity', () => ({ ...base(), identity: '' }), 400, 'identity', 'parameter_invalid'],
    [
      'identity of 49 characters',
      () => ({ ...base(), identity: 'C'.repeat(49) }),
      400,
      'identity',
      'parameter_invalid',
    ],
    ["identity with '/'", () => ({ ...base(), identity: 'CP/1' }), 400, 'identity', 'parameter_invalid'],
    ["identity with ':'", () => ({ ...base(), identity: 'CP:1' }), 400, 'identity', 'parameter_invalid'],
    ['identity with a tab', () => ({ ...base(), identity: 'CP\t1' }), 400, 'identity', 'parameter_invalid'],
    [
      'identity with a leading space',
      () => ({ ...base(), identity: ' CP1' }),
      400,
      'identity',
      'parameter_invalid',
    ],
    ['identity as a number', () => ({ ...base(), identity: 1 }), 400, 'identity', 'parameter_invalid'],
    ['missing site_id', () => ({ ...base(), site_id: undefined }), 400, 'site_id', 'parameter_missing'],
    ['unknown site', () => ({ ...base(), site_id: 'site_nope' }), 404, 'site_id', 'resource_missing'],
    [
      "another organization's site",
      () => ({ ...base(), site_id: foreignSiteId }),
      404,
      'site_id',
      'resource_missing',
    ],
    [
      'password of 15 characters',
      () => ({ ...base(), password: 'p'.repeat(15) }),
      400,
      'password',
      'parameter_invalid',
    ],
    [
      'password of 41 characters',
      () => ({ ...base(), password: 'p'.repeat(41) }),
      400,
      'password',
      'parameter_invalid',
    ],
    [
      'password as a number',
      () => ({ ...base(), password: 1234567890123456 }),
      400,
      'password',
      'parameter_invalid',
    ],
    [
      'missing hold_amount',
      () => ({ ...base(), hold_amount: undefined }),
      400,
      'hold_amount',
      'parameter_missing',
    ],
    ['hold_amount 0', () => ({ ...base(), hold_amount: '0' }), 400, 'hold_amount', 'parameter_invalid'],
    ['negative hold_amount', () => ({ ...base(), hold_amount: -5 }), 400, 'hold_amount', 'parameter_invalid'],
    [
      'hold_amount not a number',
      () => ({ ...base(), hold_amount: 'fifty' }),
      400,
      'hold_amount',
      'parameter_invalid',
    ],
    [
      'hold_amount with 5 decimals',
      () => ({ ...base(), hold_amount: '1.23456' }),
      400,
      'hold_amount',
      'parameter_invalid',
    ],
    [
      'hold_amount too large',
      () => ({ ...base(), hold_amount: '123456789012345' }),
      400,
      'hold_amount',
      'parameter_invalid',
    ],
    [
      'hold_amount as a boolean',
      () => ({ ...base(), hold_amount: true }),
      400,
      'hold_amount',
      'parameter_invalid',
    ],
    ['unknown field', () => ({ ...base(), password_hash: 'x' }), 400, 'password_hash', 'parameter_unknown'],
  ])('POST /charge-points with %s', async (_label, body, status, param, code) => {
    expectError(await acme.call('POST', '/charge-points', { body: body() }), status, param, code);
  });

  it('an identity already registered, in any organization -> 409 naming identity', async () => {
    expectError(
      await acme.call('POST', '/charge-points', { body: { ...base(), identity: 'CP-1' } }),
      409,
      'identity',
      'resource_already_exists',
    );
    expectError(
      await globex.call('POST', '/charge-points', {
        body: { ...base(), identity: 'CP-1', site_id: foreignSiteId },
      }),
      409,
      'identity',
      'resource_already_exists',
    );
  });

  it('malformed JSON -> 400', async () => {
    expectError(
      await acme.call('POST', '/charge-points', { rawBody: '{"identity":"CP-X"' }),
      400,
      'body',
      'json_invalid',
    );
  });

  it('GET of an unknown charge point -> 404', async () => {
    expectError(await acme.call('GET', '/charge-points/cp_nope'), 404, null, 'resource_missing');
  });
});
