import {
  createBillingRule,
  createBillingRuleVersion,
  disableBillingRule,
  loadActiveRules,
} from '../../db/repositories/billingRules';
import { findPricingContext } from '../../db/repositories/chargePoints';
import { createOrganization } from '../../db/repositories/organizations';
import { BillingRuleInput, powerClassOf } from '../../pricing/rules';
import { createSiteFor, expectError, Harness, startHarness, tableCounts, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;

beforeAll(async () => {
  h = await startHarness('billing_rules');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
});
afterAll(() => h.close());

// The product spec's example, as an operator would type it.
const EMPLOYEE_FREE = {
  name: 'Employee free charging',
  priority: 10,
  conditions: { user_type: 'employee' },
  action: { type: 'override', price_multiplier: 0 },
};

describe('billing rules: create, read, list', () => {
  it('creates a rule with version 1, normalized, and reads it back', async () => {
    const res = await acme.call('POST', '/billing-rules', { body: EMPLOYEE_FREE });
    expect(res.status).toBe(201);
    const version = {
      object: 'billing_rule_version',
      id: expect.stringMatching(/^rulev_/),
      rule_id: res.body.id,
      version: 1,
      name: 'Employee free charging',
      priority: 10,
      stackable: false,
      conditions: { user_type: ['employee'] },
      action: { type: 'override', price_multiplier: '0' },
      valid_from: null,
      valid_until: null,
      created_at: expect.any(String),
    };
    expect(res.body).toEqual({
      object: 'billing_rule',
      id: expect.stringMatching(/^rule_/),
      name: 'Employee free charging',
      priority: 10,
      stackable: false,
      conditions: { user_type: ['employee'] },
      action: { type: 'override', price_multiplier: '0' },
      valid_from: null,
      valid_until: null,
      disabled_at: null,
      current_version: version,
      versions: [version],
      created_at: expect.any(String),
    });
    expect((await acme.call('GET', `/billing-rules/${res.body.id}`)).body).toEqual(res.body);
  });

  it('lists by cursor, and filters active and disabled rules', async () => {
    const org = await h.tenant('Lister');
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      ids.push((await org.call('POST', '/billing-rules', { body: { ...EMPLOYEE_FREE, name } })).body.id);
    }
    const first = await org.call('GET', '/billing-rules?limit=2');
    expect(first.body).toMatchObject({ object: 'list', has_more: true, next_cursor: ids[1] });
    expect(first.body.data.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 2));
    const second = await org.call('GET', `/billing-rules?limit=2&starting_after=${first.body.next_cursor}`);
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.body.data.map((r: { id: string }) => r.id)).toEqual([ids[2]]);

    await org.call('POST', `/billing-rules/${ids[1]}/disable`);
    const ofStatus = async (status: string) =>
      (await org.call('GET', `/billing-rules?status=${status}`)).body.data.map((r: { id: string }) => r.id);
    expect(await ofStatus('active')).toEqual([ids[0], ids[2]]);
    expect(await ofStatus('disabled')).toEqual([ids[1]]);
    expectError(await org.call('GET', '/billing-rules?status=paused'), 400, 'status');
  });
});

describe('billing rules: edits are new versions', () => {
  it('carries over the fields an edit does not send, and leaves version 1 unchanged', async () => {
    const rule = (
      await acme.call('POST', '/billing-rules', {
        body: {
          ...EMPLOYEE_FREE,
          stackable: true,
          valid_from: '2026-01-01T00:00:00+01:00',
          valid_until: '2027-01-01T00:00:00Z',
        },
      })
    ).body;
    expect(rule).toMatchObject({
      valid_from: '2025-12-31T23:00:00.000Z',
      valid_until: '2027-01-01T00:00:00.000Z',
    });
    const res = await acme.call('POST', `/billing-rules/${rule.id}/versions`, {
      body: { action: { type: 'discount', percent: '50' }, valid_until: null },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'billing_rule_version',
      rule_id: rule.id,
      version: 2,
      name: EMPLOYEE_FREE.name,
      priority: 10,
      stackable: true,
      conditions: { user_type: ['employee'] },
      action: { type: 'discount', percent: '50' },
      valid_from: '2025-12-31T23:00:00.000Z',
      valid_until: null,
    });
    const read = (await acme.call('GET', `/billing-rules/${rule.id}`)).body;
    expect(read.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(read.versions[0]).toEqual(rule.current_version);
    expect(read.current_version).toEqual(res.body);
    expect(read).toMatchObject({ action: { type: 'discount', percent: '50' }, valid_until: null });
  });

  it('numbers concurrent edits consecutively', async () => {
    const rule = (await acme.call('POST', '/billing-rules', { body: EMPLOYEE_FREE })).body;
    const edits = await Promise.all(
      [1, 2, 3, 4].map((priority) =>
        acme.call('POST', `/billing-rules/${rule.id}/versions`, { body: { priority } }),
      ),
    );
    expect(edits.map((e) => e.status)).toEqual([201, 201, 201, 201]);
    expect(edits.map((e) => e.body.version).sort()).toEqual([2, 3, 4, 5]);
  });

  it('the database refuses to change or delete a rule version', async () => {
    const rule = (await acme.call('POST', '/billing-rules', { body: EMPLOYEE_FREE })).body;
    const versionId = rule.current_version.id;
    const versions = () => h.db('billing_rule_versions').where({ id: versionId });
    await expect(versions().update({ priority: 0 })).rejects.toThrow(/immutable/);
    await expect(versions().update({ action: '{"type":"discount","percent":"100"}' })).rejects.toThrow(
      /immutable/,
    );
    await expect(versions().delete()).rejects.toThrow(/immutable/);
    expect((await versions().first()).priority).toBe(10);
  });

  it('disabling is final: repeated, it keeps the first instant; an edit is then refused', async () => {
    const rule = (await acme.call('POST', '/billing-rules', { body: EMPLOYEE_FREE })).body;
    const first = await acme.call('POST', `/billing-rules/${rule.id}/disable`);
    expect(first.status).toBe(200);
    expect(first.body.disabled_at).toEqual(expect.any(String));
    const again = await acme.call('POST', `/billing-rules/${rule.id}/disable`);
    expect(again.body.disabled_at).toBe(first.body.disabled_at);
    const before = await tableCounts(h.db);
    expectError(
      await acme.call('POST', `/billing-rules/${rule.id}/versions`, { body: { priority: 1 } }),
      409,
      null,
      'resource_disabled',
    );
    expect(await tableCounts(h.db)).toEqual(before);
  });
});

describe('billing rules: bad input is refused naming the field, and nothing is written', () => {
  let before: Record<string, number>;
  let ruleId: string;
  beforeAll(async () => {
    ruleId = (await acme.call('POST', '/billing-rules', { body: EMPLOYEE_FREE })).body.id;
  });
  beforeEach(async () => {
    before = await tableCounts(h.db);
  });
  afterEach(async () => {
    expect(await tableCounts(h.db)).toEqual(before);
  });

  const rule = (changes: Record<string, unknown>) => ({ ...EMPLOYEE_FREE, ...changes });
  const conditions = (c: Record<string, unknown>) => rule({ conditions: c });
  it.each<[string, unknown, string, string]>([
    ['a missing name', { action: EMPLOYEE_FREE.action }, 'name', 'parameter_missing'],
    ['a blank name', rule({ name: '  ' }), 'name', 'parameter_invalid'],
    ['a missing action', { name: 'x' }, 'action', 'parameter_missing'],
    ['a negative priority', rule({ priority: -1 }), 'priority', 'parameter_invalid'],
    ['a fractional priority', rule({ priority: 1.5 }), 'priority', 'parameter_invalid'],
    ['stackable as a string', rule({ stackable: 'yes' }), 'stackable', 'parameter_invalid'],
    ['an unknown field', rule({ rule_id: 'rule_1' }), 'rule_id', 'parameter_unknown'],
    ['an unknown condition', conditions({ vehicle: 'van' }), 'conditions.vehicle', 'parameter_unknown'],
    [
      'an unknown power class',
      conditions({ power_class: ['HPC'] }),
      'conditions.power_class',
      'parameter_invalid',
    ],
    ['an empty user type list', conditions({ user_type: [] }), 'conditions.user_type', 'parameter_invalid'],
    [
      'a bad time window',
      conditions({ time_window: { start_time: '7:00', end_time: '09:00' } }),
      'conditions.time_window.start_time',
      'parameter_invalid',
    ],
    [
      'membership as a string',
      conditions({ membership: 'yes' }),
      'conditions.membership',
      'parameter_invalid',
    ],
    [
      'an unknown action',
      rule({ action: { type: 'refund', amount: '1' } }),
      'action.type',
      'parameter_invalid',
    ],
    [
      'a negative surcharge',
      rule({ action: { type: 'surcharge', amount: '-1' } }),
      'action.amount',
      'parameter_invalid',
    ],
    [
      'a discount over 100%',
      rule({ action: { type: 'discount', percent: '101' } }),
      'action.percent',
      'parameter_invalid',
    ],
    [
      'an override with both forms',
      rule({ action: { type: 'override', price_multiplier: 1, components: [] } }),
      'action',
      'parameter_invalid',
    ],
    [
      'an unknown override component',
      rule({ action: { type: 'override', components: [{ type: 'per_hour', price: '1' }] } }),
      'action.components[0].type',
      'parameter_invalid',
    ],
    [
      'valid_from without a zone',
      rule({ valid_from: '2030-01-01T00:00:00' }),
      'valid_from',
      'parameter_invalid',
    ],
    [
      'valid_until before valid_from',
      rule({ valid_from: '2030-01-02T00:00:00Z', valid_until: '2030-01-01T00:00:00Z' }),
      'valid_until',
      'parameter_invalid',
    ],
  ])('POST /billing-rules with %s', async (_label, body, param, code) => {
    expectError(await acme.call('POST', '/billing-rules', { body }), 400, param, code);
  });

  it('POST /billing-rules with a body that is not an object', async () => {
    expectError(await acme.call('POST', '/billing-rules', { body: [EMPLOYEE_FREE] }), 400, 'body');
  });

  it.each<[string, unknown, string, string]>([
    [
      'a bad amount',
      { action: { type: 'fixed_price', amount: 'ten' } },
      'action.amount',
      'parameter_invalid',
    ],
    ['a null name', { name: null }, 'name', 'parameter_invalid'],
    ['an unknown field', { enabled: false }, 'enabled', 'parameter_unknown'],
    [
      'valid_until before the kept valid_from',
      { valid_from: '2030-01-02T00:00:00Z', valid_until: '2030-01-01T00:00:00Z' },
      'valid_until',
      'parameter_invalid',
    ],
  ])('POST /billing-rules/:id/versions with %s', async (_label, body, param, code) => {
    expectError(await acme.call('POST', `/billing-rules/${ruleId}/versions`, { body }), 400, param, code);
  });

  it.each([
    ['GET', ''],
    ['POST', '/versions'],
    ['POST', '/disable'],
  ])('%s /billing-rules/:id%s of an unknown or foreign rule -> 404', async (method, suffix) => {
    const body = method === 'POST' && suffix === '/versions' ? { priority: 1 } : undefined;
    for (const [tenant, id] of [
      [acme, 'rule_nope'],
      [globex, ruleId],
    ] as const) {
      expectError(
        await tenant.call(method, `/billing-rules/${id}${suffix}`, { body }),
        404,
        null,
        'resource_missing',
      );
    }
    expect((await globex.call('GET', '/billing-rules')).body.data).toEqual([]);
  });
});

describe('loadActiveRules: what a session snapshots at its start', () => {
  const input = (
    name: string,
    priority: number,
    extra: Partial<BillingRuleInput> = {},
  ): BillingRuleInput => ({
    name,
    priority,
    stackable: false,
    conditions: { user_type: ['employee'] },
    action: { type: 'surcharge', amount: '1' },
    ...extra,
  });

  it('orders by priority, then rule id, and answers plain BillingRules', async () => {
    const org = await createOrganization(h.db, { name: 'Rules' });
    const late = await createBillingRule(h.db, org.id, input('late', 50));
    const tieA = await createBillingRule(h.db, org.id, input('tie a', 20));
    const tieB = await createBillingRule(h.db, org.id, input('tie b', 20));
    const first = await createBillingRule(h.db, org.id, input('first', 0, { stackable: true }));
    const rules = await loadActiveRules(h.db, org.id, new Date());
    expect(rules.map((r) => r.name)).toEqual(['first', 'tie a', 'tie b', 'late']);
    expect(tieA.id < tieB.id).toBe(true);
    expect(rules[0]).toStrictEqual({
      id: first.id,
      versionId: first.currentVersion.versionId,
      version: 1,
      name: 'first',
      priority: 0,
      stackable: true,
      conditions: { user_type: ['employee'] },
      action: { type: 'surcharge', amount: '1' },
    });
    expect(late.currentVersion.createdAt).toBeInstanceOf(Date);
  });

  it('takes the latest version of each rule, which may move it in the order or out of the result', async () => {
    const org = await createOrganization(h.db, { name: 'Edited' });
    const a = await createBillingRule(h.db, org.id, input('a', 10));
    const b = await createBillingRule(h.db, org.id, input('b', 20));
    await createBillingRuleVersion(h.db, org.id, b.id, input('b2', 5));
    const now = new Date();
    expect((await loadActiveRules(h.db, org.id, now)).map((r) => [r.name, r.version])).toEqual([
      ['b2', 2],
      ['a', 1],
    ]);
    await createBillingRuleVersion(
      h.db,
      org.id,
      a.id,
      input('a ended', 10, { valid_until: '2020-01-01T00:00:00.000Z' }),
    );
    expect((await loadActiveRules(h.db, org.id, now)).map((r) => r.name)).toEqual(['b2']);
  });

  it('keeps a rule only while valid_from <= at < valid_until', async () => {
    const org = await createOrganization(h.db, { name: 'Windows' });
    await createBillingRule(
      h.db,
      org.id,
      input('summer', 1, { valid_from: '2030-06-01T00:00:00.000Z', valid_until: '2030-09-01T00:00:00.000Z' }),
    );
    await createBillingRule(h.db, org.id, input('from july', 2, { valid_from: '2030-07-01T00:00:00.000Z' }));
    await createBillingRule(
      h.db,
      org.id,
      input('until july', 3, { valid_until: '2030-07-01T00:00:00.000Z' }),
    );
    const at = async (iso: string) => (await loadActiveRules(h.db, org.id, new Date(iso))).map((r) => r.name);
    expect(await at('2030-05-31T23:59:59.999Z')).toEqual(['until july']);
    expect(await at('2030-06-01T00:00:00Z')).toEqual(['summer', 'until july']);
    expect(await at('2030-07-01T00:00:00Z')).toEqual(['summer', 'from july']);
    expect(await at('2030-09-01T00:00:00Z')).toEqual(['from july']);
    const summer = (await loadActiveRules(h.db, org.id, new Date('2030-06-15T00:00:00Z')))[0];
    expect(summer).toMatchObject({
      valid_from: '2030-06-01T00:00:00.000Z',
      valid_until: '2030-09-01T00:00:00.000Z',
    });
  });

  it("leaves out disabled rules and other organizations' rules", async () => {
    const org = await createOrganization(h.db, { name: 'Disabled' });
    const other = await createOrganization(h.db, { name: 'Neighbour' });
    const kept = await createBillingRule(h.db, org.id, input('kept', 1));
    const dropped = await createBillingRule(h.db, org.id, input('dropped', 2));
    await createBillingRule(h.db, other.id, input('foreign', 0));
    expect(await disableBillingRule(h.db, other.id, dropped.id)).toBeUndefined();
    expect((await loadActiveRules(h.db, org.id, new Date())).map((r) => r.id)).toEqual([kept.id, dropped.id]);
    await disableBillingRule(h.db, org.id, dropped.id);
    expect((await loadActiveRules(h.db, org.id, new Date())).map((r) => r.id)).toEqual([kept.id]);
    expect(await createBillingRuleVersion(h.db, org.id, dropped.id, input('revived', 1))).toEqual({
      refused: 'disabled',
      disabledAt: expect.any(Date),
    });
    expect(await createBillingRuleVersion(h.db, other.id, kept.id, input('stolen', 1))).toEqual({
      refused: 'missing',
    });
  });
});

describe('charge points: power type, maximum power and connector types', () => {
  let siteId: string;
  beforeAll(async () => {
    siteId = (await createSiteFor(acme, 'America/New_York')).site.id;
  });
  const create = (identity: string, extra: Record<string, unknown> = {}) =>
    acme.call('POST', '/charge-points', { body: { identity, site_id: siteId, hold_amount: '50', ...extra } });

  it('are set at creation, updated and cleared, and read by findPricingContext', async () => {
    const res = await create('HPC-1', {
      power_type: 'DC',
      max_power_kw: '150.00',
      connector_types: [
        { connector_id: 2, connector_type: 'CHADEMO' },
        { connector_id: 1, connector_type: 'IEC_62196_T2_COMBO' },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      power_type: 'DC',
      max_power_kw: '150',
      connector_types: [
        { connector_id: 1, connector_type: 'IEC_62196_T2_COMBO' },
        { connector_id: 2, connector_type: 'CHADEMO' },
      ],
    });
    expect((await acme.call('GET', `/charge-points/${res.body.id}`)).body).toEqual(res.body);

    const place = await findPricingContext(h.db, res.body.id, 2);
    expect(place).toEqual({
      siteId,
      timeZone: 'America/New_York',
      powerType: 'DC',
      maxPowerKw: '150',
      connectorType: 'CHADEMO',
    });
    expect(powerClassOf(place!.powerType, place!.maxPowerKw)).toBe('DC_FAST');
    expect((await findPricingContext(h.db, res.body.id, 3))?.connectorType).toBeNull();

    const patched = await acme.call('PATCH', `/charge-points/${res.body.id}`, {
      body: { max_power_kw: 22.5, connector_types: [{ connector_id: 1, connector_type: 'IEC_62196_T2' }] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      identity: 'HPC-1',
      power_type: 'DC',
      max_power_kw: '22.5',
      connector_types: [{ connector_id: 1, connector_type: 'IEC_62196_T2' }],
    });
    expect(await findPricingContext(h.db, res.body.id, 1)).toMatchObject({
      maxPowerKw: '22.5',
      connectorType: 'IEC_62196_T2',
    });
    expect((await findPricingContext(h.db, res.body.id, 2))?.connectorType).toBeNull();

    const cleared = await acme.call('PATCH', `/charge-points/${res.body.id}`, {
      body: { power_type: null, max_power_kw: null, connector_types: null },
    });
    expect(cleared.body).toMatchObject({ power_type: null, max_power_kw: null, connector_types: [] });
    expect(await findPricingContext(h.db, res.body.id, 1)).toEqual({
      siteId,
      timeZone: 'America/New_York',
      powerType: null,
      maxPowerKw: null,
      connectorType: null,
    });
  });

  it('are unset by default; an unknown charge point has no pricing context', async () => {
    const res = await create('AC-1');
    expect(res.body).toMatchObject({ power_type: null, max_power_kw: null, connector_types: [] });
    expect(await findPricingContext(h.db, 'cp_nope', 1)).toBeUndefined();
  });

  describe('refused naming the field, writing nothing', () => {
    let before: Record<string, number>;
    let cpId: string;
    beforeAll(async () => {
      cpId = (await create('AC-2', { power_type: 'AC', max_power_kw: '11' })).body.id;
    });
    beforeEach(async () => {
      before = await tableCounts(h.db);
    });
    afterEach(async () => {
      expect(await tableCounts(h.db)).toEqual(before);
      expect((await acme.call('GET', `/charge-points/${cpId}`)).body).toMatchObject({
        power_type: 'AC',
        max_power_kw: '11',
      });
    });

    const connector = (entry: unknown) => ({ connector_types: [entry] });
    it.each<[string, Record<string, unknown>, string, string]>([
      ['an unknown power type', { power_type: 'HVDC' }, 'power_type', 'parameter_invalid'],
      ['zero max power', { max_power_kw: 0 }, 'max_power_kw', 'parameter_invalid'],
      ['max power with 3 decimals', { max_power_kw: '7.125' }, 'max_power_kw', 'parameter_invalid'],
      ['max power too large', { max_power_kw: '1000000' }, 'max_power_kw', 'parameter_invalid'],
      [
        'connector types not an array',
        { connector_types: { 1: 'CHADEMO' } },
        'connector_types',
        'parameter_invalid',
      ],
      [
        'connector 0',
        connector({ connector_id: 0, connector_type: 'CHADEMO' }),
        'connector_types[0].connector_id',
        'parameter_invalid',
      ],
      [
        'a connector id as a string',
        connector({ connector_id: '1', connector_type: 'CHADEMO' }),
        'connector_types[0].connector_id',
        'parameter_invalid',
      ],
      [
        'a malformed connector type',
        connector({ connector_id: 1, connector_type: 'Type 2' }),
        'connector_types[0].connector_type',
        'parameter_invalid',
      ],
      [
        'an unknown connector field',
        connector({ connector_id: 1, connector_type: 'CHADEMO', power: 50 }),
        'connector_types[0].power',
        'parameter_unknown',
      ],
      [
        'a connector twice',
        {
          connector_types: [
            { connector_id: 1, connector_type: 'CHADEMO' },
            { connector_id: 1, connector_type: 'IEC_62196_T2' },
          ],
        },
        'connector_types[1].connector_id',
        'parameter_invalid',
      ],
    ])('with %s', async (_label, fields, param, code) => {
      expectError(await create('AC-REFUSED', fields), 400, param, code);
      expectError(await acme.call('PATCH', `/charge-points/${cpId}`, { body: fields }), 400, param, code);
    });

    it('PATCH of anything else, or of an unknown or foreign charge point', async () => {
      const patch = (tenant: Tenant, id: string, body: unknown) =>
        tenant.call('PATCH', `/charge-points/${id}`, { body });
      expectError(await patch(acme, cpId, { hold_amount: '1' }), 400, 'hold_amount', 'parameter_unknown');
      expectError(await patch(acme, 'cp_nope', { power_type: 'DC' }), 404, null, 'resource_missing');
      expectError(await patch(globex, cpId, { power_type: 'DC' }), 404, null, 'resource_missing');
    });
  });
});

describe('users: membership_valid_until (the membership rule condition)', () => {
  const newUser = (email: string, extra: Record<string, unknown> = {}) =>
    acme.call('POST', '/users', { body: { email, name: 'M', user_type: 'member', ...extra } });

  it('is set at creation, changed and cleared', async () => {
    const res = await newUser('member@example.com', { membership_valid_until: '2030-12-31T23:00:00-01:00' });
    expect(res.status).toBe(201);
    expect(res.body.membership_valid_until).toBe('2031-01-01T00:00:00.000Z');
    const changed = await acme.call('PATCH', `/users/${res.body.id}`, {
      body: { membership_valid_until: '2031-06-30T00:00:00Z' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      email: 'member@example.com',
      membership_valid_until: '2031-06-30T00:00:00.000Z',
    });
    const cleared = await acme.call('PATCH', `/users/${res.body.id}`, {
      body: { membership_valid_until: null },
    });
    expect(cleared.body.membership_valid_until).toBeNull();
    expect((await acme.call('GET', `/users/${res.body.id}`)).body).toEqual(cleared.body);
    expect((await newUser('plain@example.com')).body.membership_valid_until).toBeNull();
  });

  it('refuses a bad instant naming it, and a foreign user, writing nothing', async () => {
    const user = (await newUser('m2@example.com', { membership_valid_until: '2030-01-01T00:00:00Z' })).body;
    const before = await tableCounts(h.db);
    expectError(
      await newUser('m3@example.com', { membership_valid_until: 'soon' }),
      400,
      'membership_valid_until',
    );
    expectError(
      await acme.call('PATCH', `/users/${user.id}`, {
        body: { membership_valid_until: '2030-02-30T00:00:00Z' },
      }),
      400,
      'membership_valid_until',
    );
    expectError(
      await acme.call('PATCH', `/users/${user.id}`, { body: { email: 'x@example.com' } }),
      400,
      'email',
      'parameter_unknown',
    );
    expectError(
      await globex.call('PATCH', `/users/${user.id}`, { body: { membership_valid_until: null } }),
      404,
      null,
      'resource_missing',
    );
    expect(await tableCounts(h.db)).toEqual(before);
    expect((await acme.call('GET', `/users/${user.id}`)).body.membership_valid_until).toBe(
      '2030-01-01T00:00:00.000Z',
    );
  });
});
