import { newId } from '../../db/ids';
import {
  consumeAllowance,
  getAllowanceStatus,
  getConsumption,
  setAllowance,
} from '../../db/repositories/allowances';
import { periodBounds, periodOf } from '../../pricing/calendar-months';
import { createSiteFor, expectError, Harness, startHarness, tableCounts, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;
let chargePointId: string;

beforeAll(async () => {
  h = await startHarness('allowances');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  const { site } = await createSiteFor(acme);
  const cp = await acme.call('POST', '/charge-points', {
    body: { identity: 'CP-ALLOW-1', site_id: site.id, hold_amount: '40' },
  });
  chargePointId = cp.body.id;
});
afterAll(() => h.close());

let seq = 0;

async function newUser(t: Tenant = acme): Promise<string> {
  const res = await t.call('POST', '/users', {
    body: { email: `allowance${++seq}@example.com`, name: 'Dana Driver', user_type: 'employee' },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function insertSession(userId: string, organizationId = acme.org.id): Promise<string> {
  const id = newId('ses');
  await h.db('charging_sessions').insert({
    id,
    organization_id: organizationId,
    charge_point_id: chargePointId,
    connector_id: 1,
    id_tag: 'TAG-ALLOW',
    user_id: userId,
    status: 'active',
    currency: 'EUR',
    meter_start_wh: '0',
    started_at: new Date(Date.UTC(2026, 10, 1) + ++seq * 1000),
    workflow_id: `wf-${id}`,
  });
  return id;
}

/** An organization in the time zone, with a user who has the allowance. */
async function userIn(timeZone: string, monthlyKwh: string) {
  const t = await h.tenant(`Org ${timeZone} ${++seq}`);
  await h.db('organizations').where({ id: t.org.id }).update({ time_zone: timeZone });
  const userId = await newUser(t);
  await setAllowance(h.db, t.org.id, userId, monthlyKwh);
  return { tenant: t, userId };
}

const iso = (d: Date) => d.toISOString();

describe('calendar months in a time zone', () => {
  it.each([
    ['UTC', '2026-01-31T23:59:59.999Z', '2026-01'],
    ['UTC', '2026-02-01T00:00:00.000Z', '2026-02'],
    // Auckland is UTC+13 in January (daylight time): its February starts at 11:00 UTC on January 31.
    ['Pacific/Auckland', '2026-01-31T10:59:59.999Z', '2026-01'],
    ['Pacific/Auckland', '2026-01-31T11:00:00.000Z', '2026-02'],
    // Los Angeles is UTC-7 in March after the change to daylight time: April starts at 07:00 UTC.
    ['America/Los_Angeles', '2026-04-01T06:59:59.999Z', '2026-03'],
    ['America/Los_Angeles', '2026-04-01T07:00:00.000Z', '2026-04'],
  ])('%s %s is in %s', (timeZone, at, period) => {
    expect(periodOf(timeZone, new Date(at))).toBe(period);
  });

  it.each([
    ['UTC', '2026-12', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['Pacific/Auckland', '2026-02', '2026-01-31T11:00:00.000Z', '2026-02-28T11:00:00.000Z'],
    // New Zealand daylight time ends on 5 April 2026, so its April is an hour longer than 30 days.
    ['Pacific/Auckland', '2026-04', '2026-03-31T11:00:00.000Z', '2026-04-30T12:00:00.000Z'],
    // US daylight time starts on 8 March 2026, so March starts at UTC-8 and ends at UTC-7.
    ['America/Los_Angeles', '2026-03', '2026-03-01T08:00:00.000Z', '2026-04-01T07:00:00.000Z'],
    ['Asia/Kolkata', '2026-06', '2026-05-31T18:30:00.000Z', '2026-06-30T18:30:00.000Z'],
  ])('%s %s runs from %s to %s', (timeZone, period, start, end) => {
    const bounds = periodBounds(timeZone, period);
    expect({ start: iso(bounds.start), end: iso(bounds.end) }).toEqual({ start, end });
  });
});

describe('GET and PUT /monthly-energy/users/:user_id/allowance', () => {
  it('sets, replaces and reads the allowance for the current month', async () => {
    const userId = await newUser();
    const path = `/monthly-energy/users/${userId}/allowance`;
    expectError(await acme.call('GET', path), 404, null, 'resource_missing');
    const put = await acme.call('PUT', path, { body: { monthly_kwh: 100 } });
    expect(put.status).toBe(200);
    const now = new Date();
    const period = periodOf('UTC', now);
    const { start, end } = periodBounds('UTC', period);
    expect(put.body).toEqual({
      object: 'energy_allowance',
      user_id: userId,
      time_zone: 'UTC',
      period,
      allowance_kwh: '100',
      used_kwh: '0',
      remaining_kwh: '100',
      period_start: iso(start),
      resets_at: iso(end),
    });
    await consumeAllowance(h.db, {
      userId,
      sessionId: await insertSession(userId),
      at: now,
      requestedKwh: '12.345',
    });
    const replaced = await acme.call('PUT', path, { body: { monthly_kwh: '50.5' } });
    expect(replaced.body).toMatchObject({
      allowance_kwh: '50.5',
      used_kwh: '12.345',
      remaining_kwh: '38.155',
    });
    expect((await acme.call('GET', path)).body).toEqual(replaced.body);
    // Lowered below what was used: nothing left, never a negative remainder.
    const lowered = await acme.call('PUT', path, { body: { monthly_kwh: '10' } });
    expect(lowered.body).toMatchObject({ allowance_kwh: '10', used_kwh: '12.345', remaining_kwh: '0' });
  });

  it("answers 404 for another organization's user or an unknown user, on both methods", async () => {
    const foreign = await newUser(globex);
    await setAllowance(h.db, globex.org.id, foreign, '20');
    const path = `/monthly-energy/users/${foreign}/allowance`;
    const before = await tableCounts(h.db);
    expectError(await acme.call('GET', path), 404, null, 'resource_missing');
    expectError(await acme.call('PUT', path, { body: { monthly_kwh: 5 } }), 404, null, 'resource_missing');
    expectError(
      await acme.call('PUT', '/monthly-energy/users/usr_nope/allowance', { body: { monthly_kwh: 5 } }),
      404,
      null,
      'resource_missing',
    );
    expect(await tableCounts(h.db)).toEqual(before);
    expect((await globex.call('GET', path)).body.allowance_kwh).toBe('20');
  });

  describe('refuses bad input, naming the field and writing nothing', () => {
    let userId: string;
    let before: Record<string, number>;
    beforeAll(async () => {
      userId = await newUser();
    });
    beforeEach(async () => {
      before = await tableCounts(h.db);
    });
    afterEach(async () => {
      expect(await tableCounts(h.db)).toEqual(before);
    });

    it.each<[string, unknown, string, string]>([
      ['no monthly_kwh', {}, 'monthly_kwh', 'parameter_missing'],
      ['a negative allowance', { monthly_kwh: -1 }, 'monthly_kwh', 'parameter_invalid'],
      ['four decimals', { monthly_kwh: '1.0005' }, 'monthly_kwh', 'parameter_invalid'],
      ['a million kWh', { monthly_kwh: '1000000' }, 'monthly_kwh', 'parameter_invalid'],
      ['text', { monthly_kwh: 'lots' }, 'monthly_kwh', 'parameter_invalid'],
      ['a boolean', { monthly_kwh: true }, 'monthly_kwh', 'parameter_invalid'],
      ['an unknown field', { monthly_kwh: 5, rollover: true }, 'rollover', 'parameter_unknown'],
      ['a body that is not an object', [5], 'body', 'parameter_invalid'],
    ])('%s', async (_label, body, param, code) => {
      const res = await acme.call('PUT', `/monthly-energy/users/${userId}/allowance`, { body });
      expectError(res, 400, param, code);
    });
  });
});

describe('consumeAllowance', () => {
  it('grants up to what is left, then nothing', async () => {
    const { userId } = await userIn('UTC', '20');
    const at = new Date('2026-05-10T12:00:00Z');
    const grant = async (kwh: string) =>
      consumeAllowance(h.db, { userId, sessionId: await insertSession(userId), at, requestedKwh: kwh });
    expect(await grant('12.5')).toEqual({ period: '2026-05', grantedKwh: '12.5', remainingKwh: '7.5' });
    expect(await grant('10')).toEqual({ period: '2026-05', grantedKwh: '7.5', remainingKwh: '0' });
    expect(await grant('3')).toEqual({ period: '2026-05', grantedKwh: '0', remainingKwh: '0' });
  });

  it('10 concurrent sessions of 3 kWh against 20 kWh are granted exactly 20 in total', async () => {
    const { tenant, userId } = await userIn('UTC', '20');
    const at = new Date('2026-06-15T08:00:00Z');
    const sessions = await Promise.all(
      Array.from({ length: 10 }, () => insertSession(userId, tenant.org.id)),
    );
    const grants = await Promise.all(
      sessions.map((sessionId) => consumeAllowance(h.db, { userId, sessionId, at, requestedKwh: '3' })),
    );
    const granted = grants.map((g) => g.grantedKwh).sort();
    expect(granted).toEqual(['0', '0', '0', '2', '3', '3', '3', '3', '3', '3']);
    const status = await getAllowanceStatus(h.db, tenant.org.id, userId, at);
    expect(status).toMatchObject({ period: '2026-06', used_kwh: '20', remaining_kwh: '0' });
    expect(await h.db('allowance_consumptions').where({ user_id: userId }).count('* as n')).toEqual([
      { n: 10 },
    ]);
  });

  it('a retried session gets its first grant again, sequentially and concurrently', async () => {
    const { tenant, userId } = await userIn('UTC', '10');
    const at = new Date('2026-07-01T00:00:00Z');
    const sessionId = await insertSession(userId, tenant.org.id);
    const first = await consumeAllowance(h.db, { userId, sessionId, at, requestedKwh: '4' });
    expect(first).toEqual({ period: '2026-07', grantedKwh: '4', remainingKwh: '6' });
    // A retry asking for more, or at another instant, still answers the first grant.
    expect(
      await consumeAllowance(h.db, {
        userId,
        sessionId,
        at: new Date('2026-08-02T00:00:00Z'),
        requestedKwh: '9',
      }),
    ).toEqual(first);
    const racing = await insertSession(userId, tenant.org.id);
    const grants = await Promise.all(
      Array.from({ length: 6 }, () =>
        consumeAllowance(h.db, { userId, sessionId: racing, at, requestedKwh: '5' }),
      ),
    );
    expect(new Set(grants.map((g) => g.grantedKwh))).toEqual(new Set(['5']));
    expect(await getAllowanceStatus(h.db, tenant.org.id, userId, at)).toMatchObject({
      used_kwh: '9',
      remaining_kwh: '1',
    });
    expect(await getConsumption(h.db, racing)).toEqual({
      period: '2026-07',
      grantedKwh: '5',
      remainingKwh: '1',
    });
  });

  it("starts a new month at 0 used in the organization's time zone, with no rollover (Auckland)", async () => {
    const { tenant, userId } = await userIn('Pacific/Auckland', '10');
    // 23:30 on 31 January in Auckland, 10:30 UTC; an hour later it is February there, still January in UTC.
    const lateJanuary = new Date('2026-01-31T10:30:00Z');
    const earlyFebruary = new Date('2026-01-31T11:30:00Z');
    const consume = async (at: Date, kwh: string) =>
      consumeAllowance(h.db, {
        userId,
        sessionId: await insertSession(userId, tenant.org.id),
        at,
        requestedKwh: kwh,
      });
    expect(await consume(lateJanuary, '4')).toEqual({
      period: '2026-01',
      grantedKwh: '4',
      remainingKwh: '6',
    });
    expect(await consume(earlyFebruary, '15')).toEqual({
      period: '2026-02',
      grantedKwh: '10',
      remainingKwh: '0',
    });

    const january = await getAllowanceStatus(h.db, tenant.org.id, userId, lateJanuary);
    expect(january).toEqual({
      user_id: userId,
      time_zone: 'Pacific/Auckland',
      period: '2026-01',
      allowance_kwh: '10',
      used_kwh: '4',
      remaining_kwh: '6',
      period_start: new Date('2025-12-31T11:00:00Z'),
      resets_at: new Date('2026-01-31T11:00:00Z'),
    });
    // January's unused 6 kWh are not added to March.
    const march = await getAllowanceStatus(h.db, tenant.org.id, userId, new Date('2026-03-15T00:00:00Z'));
    expect(march).toMatchObject({ period: '2026-03', used_kwh: '0', remaining_kwh: '10' });
  });

  it('counts a session at the end of March in Los Angeles in March, though it is April in UTC', async () => {
    const { tenant, userId } = await userIn('America/Los_Angeles', '5');
    const at = new Date('2026-04-01T03:00:00Z');
    const sessionId = await insertSession(userId, tenant.org.id);
    expect(await consumeAllowance(h.db, { userId, sessionId, at, requestedKwh: '2' })).toMatchObject({
      period: '2026-03',
    });
    expect(await getAllowanceStatus(h.db, tenant.org.id, userId, at)).toMatchObject({
      period: '2026-03',
      used_kwh: '2',
      resets_at: new Date('2026-04-01T07:00:00Z'),
    });
  });

  it('grants nothing to a driver without an allowance, and a retry stays at nothing once one is set', async () => {
    const userId = await newUser();
    const sessionId = await insertSession(userId);
    const at = new Date('2026-09-09T09:00:00Z');
    expect(await consumeAllowance(h.db, { userId, sessionId, at, requestedKwh: '7' })).toEqual({
      period: '2026-09',
      grantedKwh: '0',
      remainingKwh: '0',
    });
    await setAllowance(h.db, acme.org.id, userId, '30');
    expect(await consumeAllowance(h.db, { userId, sessionId, at, requestedKwh: '7' })).toMatchObject({
      grantedKwh: '0',
    });
    expect(await getAllowanceStatus(h.db, acme.org.id, userId, at)).toMatchObject({ used_kwh: '0' });
  });

  it('refuses a negative or over-precise request and writes nothing', async () => {
    const { tenant, userId } = await userIn('UTC', '10');
    const sessionId = await insertSession(userId, tenant.org.id);
    const before = await tableCounts(h.db);
    const at = new Date();
    await expect(consumeAllowance(h.db, { userId, sessionId, at, requestedKwh: '-1' })).rejects.toThrow(
      RangeError,
    );
    await expect(
      consumeAllowance(h.db, { userId, sessionId, at, requestedKwh: '0.0000001' }),
    ).rejects.toThrow(RangeError);
    expect(await tableCounts(h.db)).toEqual(before);
  });
});
