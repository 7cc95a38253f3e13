import {
  createSiteFor,
  expectError,
  Harness,
  Json,
  startHarness,
  tableCounts,
  TARIFF_BODY,
  Tenant,
} from './helpers';

// Every price-changing request appends who did it and the object before and after, in its own transaction;
// the log is read through GET /audit-log and cannot be changed afterwards.

let h: Harness;
let acme: Tenant;
let globex: Tenant;
let ownerId: string;
let viewer: Tenant['call'];
let billing: Tenant['call'];

async function keyFor(role: 'viewer' | 'billing'): Promise<Tenant['call']> {
  const member = await acme.call('POST', '/members', {
    body: { email: `${role}@acme.example`, name: role, role },
  });
  const key = await acme.call('POST', `/members/${member.body.id}/api-keys`, { body: { name: 'cli' } });
  return (method, path, options) => h.call(method, path, { ...options, key: key.body.secret });
}

beforeAll(async () => {
  h = await startHarness('audit_log');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  const members = (await acme.call('GET', '/members')).body.data as Array<{ id: string; role: string }>;
  ownerId = members.find((m) => m.role === 'owner')!.id;
  viewer = await keyFor('viewer');
  billing = await keyFor('billing');
});
afterAll(() => h.close());

async function entriesOf(objectId: string, tenant: Tenant = acme): Promise<Json[]> {
  const res = await tenant.call('GET', `/audit-log?object_id=${objectId}&limit=100`);
  expect(res.status).toBe(200);
  return res.body.data;
}

async function onlyEntry(objectId: string, action: string): Promise<Json> {
  const found = (await entriesOf(objectId)).filter((e) => e.action === action);
  expect(found).toHaveLength(1);
  return found[0];
}

const byOwner = () => ({ type: 'member', id: ownerId });

describe('tariffs', () => {
  it('logs creation and a new version with the tariff before and after', async () => {
    const created = await acme.call('POST', '/tariffs', { body: TARIFF_BODY });
    expect(created.status).toBe(201);
    expect(await onlyEntry(created.body.id, 'tariff.created')).toEqual({
      object: 'audit_entry',
      id: expect.stringMatching(/^aud_/),
      actor: byOwner(),
      action: 'tariff.created',
      object_type: 'tariff',
      object_id: created.body.id,
      before: null,
      after: created.body,
      created_at: expect.any(String),
    });

    const edit = await acme.call('POST', `/tariffs/${created.body.id}/versions`, {
      body: { components: [{ type: 'per_kwh', price: '0.42' }] },
    });
    expect(edit.status).toBe(201);
    const now = (await acme.call('GET', `/tariffs/${created.body.id}`)).body;
    expect(await onlyEntry(created.body.id, 'tariff.updated')).toMatchObject({
      actor: byOwner(),
      object_type: 'tariff',
      before: created.body,
      after: now,
    });
    expect(now.versions).toHaveLength(2);
  });

  it('appends nothing for a refused edit', async () => {
    const created = await acme.call('POST', '/tariffs', { body: TARIFF_BODY });
    const before = await tableCounts(h.db);
    const refused = await acme.call('POST', `/tariffs/${created.body.id}/versions`, {
      body: { components: [{ type: 'per_kwh', price: '-1' }] },
    });
    expect(refused.status).toBe(400);
    expectError(
      await acme.call('POST', '/tariffs', { body: { ...TARIFF_BODY, currency: 'EURO' } }),
      400,
      'currency',
    );
    expect(await tableCounts(h.db)).toEqual(before);
    expect((await entriesOf(created.body.id)).map((e) => e.action)).toEqual(['tariff.created']);
  });

  it('logs an assignment, and a replaced one with the tariff it replaced', async () => {
    const { site } = await createSiteFor(acme);
    const first = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const second = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const assign = (tariffId: string) =>
      acme.call('POST', `/tariffs/${tariffId}/assignments`, {
        body: { scope_type: 'site', scope_id: site.id },
      });
    const assigned = await assign(first.id);
    expect(assigned.status).toBe(201);
    const replaced = await assign(second.id);
    expect(replaced.status).toBe(200);
    // The same tariff again changes no price and is not logged.
    expect((await assign(second.id)).status).toBe(200);

    const entries = (await entriesOf(assigned.body.id)).sort((a, b) =>
      a.created_at < b.created_at ? -1 : 1,
    );
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'tariff.assigned',
        actor: byOwner(),
        object_type: 'tariff_assignment',
        before: null,
        after: assigned.body,
      }),
      expect.objectContaining({
        action: 'tariff.assigned',
        before: assigned.body,
        after: replaced.body,
      }),
    ]);
    expect(entries[1].before.tariff_id).toBe(first.id);
    expect(entries[1].after.tariff_id).toBe(second.id);
  });

  it("logs setting and clearing a user type's own tariff", async () => {
    const tariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const withTariff = await acme.call('POST', '/user-types', {
      body: { name: 'contractor', tariff_id: tariff.id },
    });
    expect(await onlyEntry('contractor', 'tariff.assigned')).toMatchObject({
      object_type: 'user_type',
      before: null,
      after: withTariff.body,
    });

    const plain = await acme.call('POST', '/user-types', { body: { name: 'guest' } });
    expect(plain.status).toBe(201);
    expect(await entriesOf('guest')).toEqual([]);
    const path = '/user-types/guest';
    const set = await acme.call('PATCH', path, { body: { tariff_id: tariff.id } });
    const described = await acme.call('PATCH', path, { body: { description: 'Guests' } });
    const cleared = await acme.call('PATCH', path, { body: { tariff_id: null } });
    expect(cleared.status).toBe(200);
    expect(await onlyEntry('guest', 'tariff.assigned')).toMatchObject({
      before: plain.body,
      after: set.body,
    });
    expect(await onlyEntry('guest', 'tariff.unassigned')).toMatchObject({
      actor: byOwner(),
      before: described.body,
      after: cleared.body,
    });
    expect(await entriesOf('guest')).toHaveLength(2);
  });
});

describe('billing rules', () => {
  const RULE = {
    name: 'Fleet discount',
    priority: 5,
    conditions: { user_type: 'fleet' },
    action: { type: 'override', price_multiplier: 0.8 },
  };

  it('logs creation, a new version and disabling, once', async () => {
    const created = await acme.call('POST', '/billing-rules', { body: RULE });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(await onlyEntry(id, 'billing_rule.created')).toMatchObject({
      actor: byOwner(),
      object_type: 'billing_rule',
      before: null,
      after: created.body,
    });

    expect((await acme.call('POST', `/billing-rules/${id}/versions`, { body: { priority: 7 } })).status).toBe(
      201,
    );
    const edited = (await acme.call('GET', `/billing-rules/${id}`)).body;
    expect(await onlyEntry(id, 'billing_rule.updated')).toMatchObject({
      before: created.body,
      after: edited,
    });
    expect(edited.priority).toBe(7);

    const refused = await acme.call('POST', `/billing-rules/${id}/versions`, {
      body: { action: { type: 'override', price_multiplier: -1 } },
    });
    expect(refused.status).toBe(400);

    const disabled = await acme.call('POST', `/billing-rules/${id}/disable`);
    expect(disabled.status).toBe(200);
    expect((await acme.call('POST', `/billing-rules/${id}/disable`)).status).toBe(200);
    expect(await onlyEntry(id, 'billing_rule.deleted')).toMatchObject({
      before: edited,
      after: disabled.body,
    });
    expect(disabled.body.disabled_at).not.toBeNull();
    expect(await entriesOf(id)).toHaveLength(3);
  });
});

describe('promotional codes and allowances', () => {
  it('logs a code created and deactivated, once', async () => {
    const created = await acme.call('POST', '/promotional-codes', {
      body: { code: 'AUDIT10', discount_type: 'percent', discount_value: 10 },
    });
    expect(created.status).toBe(201);
    const path = `/promotional-codes/${created.body.id}/deactivate`;
    const deactivated = await acme.call('POST', path);
    expect((await acme.call('POST', path)).status).toBe(200);
    expect(await onlyEntry(created.body.id, 'promotional_code.created')).toMatchObject({
      actor: byOwner(),
      object_type: 'promotional_code',
      before: null,
      after: created.body,
    });
    expect(await onlyEntry(created.body.id, 'promotional_code.deactivated')).toMatchObject({
      before: created.body,
      after: deactivated.body,
    });
  });

  it("logs a change of a driver's free kWh, not a repeat of the same amount", async () => {
    await acme.call('POST', '/user-types', { body: { name: 'employee' } });
    const user = await acme.call('POST', '/users', {
      body: { email: 'dana@acme.example', name: 'Dana', user_type: 'employee' },
    });
    const path = `/monthly-energy/users/${user.body.id}/allowance`;
    const first = await acme.call('PUT', path, { body: { monthly_kwh: '100' } });
    expect(first.status).toBe(200);
    await acme.call('PUT', path, { body: { monthly_kwh: '100.000' } });
    const second = await acme.call('PUT', path, { body: { monthly_kwh: '150.5' } });
    const entries = (await entriesOf(user.body.id)).sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
    expect(entries).toEqual([
      expect.objectContaining({ action: 'energy_allowance.set', before: null, after: first.body }),
      expect.objectContaining({ action: 'energy_allowance.set', before: first.body, after: second.body }),
    ]);
  });
});

describe('GET /audit-log', () => {
  it('is for accounting roles: a viewer gets 403, a billing delegate reads', async () => {
    expectError(await viewer('GET', '/audit-log'), 403, null, 'role_not_allowed');
    const read = await billing('GET', '/audit-log?action=tariff.created');
    expect(read.status).toBe(200);
    expect(read.body.data.length).toBeGreaterThan(0);
    expect(read.body.data.every((e: Json) => e.action === 'tariff.created')).toBe(true);
  });

  it('filters by actor and time, and names a bad filter', async () => {
    expect((await acme.call('GET', `/audit-log?actor_id=${ownerId}`)).body.data.length).toBeGreaterThan(0);
    expect((await acme.call('GET', '/audit-log?actor_id=mem_nobody')).body.data).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await acme.call('GET', `/audit-log?created_from=${future}`)).body.data).toEqual([]);
    expect((await acme.call('GET', `/audit-log?created_to=${future}`)).body.data.length).toBeGreaterThan(0);
    expectError(await acme.call('GET', '/audit-log?created_from=yesterday'), 400, 'created_from');
    expectError(await acme.call('GET', '/audit-log?created_to=2026-02-30T00:00:00Z'), 400, 'created_to');
  });

  it("shows no other organization's entries", async () => {
    const tariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    expect(await entriesOf(tariff.id, globex)).toEqual([]);
  });
});

describe('the audit_log table', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, whoever asks', async () => {
    const [row] = await h.db('audit_log').limit(1);
    expect(row).toBeDefined();
    await expect(h.db('audit_log').where({ id: row.id }).update({ actor_id: 'someone' })).rejects.toThrow(
      /append-only/,
    );
    await expect(h.db('audit_log').where({ id: row.id }).delete()).rejects.toThrow(/append-only/);
    await expect(h.db.raw('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect(await h.db('audit_log').where({ id: row.id }).first()).toEqual(row);
  });
});
