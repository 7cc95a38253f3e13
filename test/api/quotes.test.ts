import { createSiteFor, expectError, Harness, Json, startHarness, tableCounts, Tenant } from './helpers';

// A quote is priced by the same function, tariff, rules, promotion and allowance as a session starting at
// that moment; the expected figures below are worked out by hand from the tariff.

let h: Harness;
let acme: Tenant;
let chargePointId: string;

// 1.00 per session, 0.40 per kWh, 6.00 per idle hour after 10 free minutes, all at 19 % VAT.
const TARIFF = {
  name: 'Garage',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: '1.00', vat: '19' },
        { type: 'ENERGY', price: '0.40', vat: '19' },
        { type: 'PARKING_TIME', price: '6.00', vat: '19' },
      ],
    },
  ],
  idle: { grace_period_seconds: 600 },
};

// Wednesday 11:00 in Berlin; 20 kWh in an hour, then 30 minutes parked.
const QUOTE = {
  started_at: '2026-06-10T09:00:00Z',
  energy_kwh: '20',
  charging_minutes: 60,
  idle_minutes: 30,
};

beforeAll(async () => {
  h = await startHarness('quotes');
  acme = await h.tenant('Acme');
  const { site } = await createSiteFor(acme);
  chargePointId = (
    await acme.call('POST', '/charge-points', {
      body: { identity: 'CP-QUOTE-1', site_id: site.id, hold_amount: '40' },
    })
  ).body.id;
  const tariff = (await acme.call('POST', '/tariffs', { body: TARIFF })).body;
  const assigned = await acme.call('POST', `/tariffs/${tariff.id}/assignments`, {
    body: { scope_type: 'site', scope_id: site.id },
  });
  expect(assigned.status).toBe(201);
});
afterAll(() => h.close());

const quote = (body: Record<string, unknown>) =>
  acme.call('POST', '/quotes', { body: { charge_point_id: chargePointId, ...QUOTE, ...body } });

const newUser = async (email: string, userType = 'public') =>
  (await acme.call('POST', '/users', { body: { email, name: 'Q', user_type: userType } })).body.id as string;

const byKind = (body: Json) =>
  Object.fromEntries(body.lines.map((l: Json) => [`${l.component}/${l.kind}`, l.amount_incl_vat]));

describe('POST /quotes', () => {
  it('prices a session from the tariff in force: session fee, energy and idle time after the grace', async () => {
    const res = await quote({});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      object: 'quote',
      charge_point_id: chargePointId,
      connector_id: 1,
      user_id: null,
      started_at: '2026-06-10T09:00:00.000Z',
      currency: 'EUR',
      energy_kwh: '20.000',
      charging_seconds: 3600,
      idle_seconds: 1800,
      // 1.00 + 8.00 + 20 min × 0.10 = 11.00; VAT 0.19 + 1.52 + 0.38.
      total_excl_vat: '11.00',
      total_vat: '2.09',
      total: '13.09',
      applied_rules: [],
      promotion: null,
    });
    expect(byKind(res.body)).toEqual({
      'flat_fee/usage': '1.19',
      'energy/usage': '9.52',
      'idle_time/usage': '2.38',
      'idle_time/idle_grace': '0.00',
    });
  });

  it("applies the driver's billing rule and says why", async () => {
    const employee = await newUser('quote-employee@example.com', 'employee');
    const rule = await acme.call('POST', '/billing-rules', {
      body: {
        name: 'Staff discount',
        priority: 1,
        conditions: { user_type: 'employee' },
        action: { type: 'discount', percent: '10' },
      },
    });
    expect(rule.status).toBe(201);
    const res = await quote({ user_id: employee });
    expect(res.status).toBe(200);
    expect(res.body.applied_rules).toEqual([
      expect.objectContaining({ name: 'Staff discount', reasons: [expect.stringContaining('employee')] }),
    ]);
    // 10 % of 11.00 and of its 2.09 VAT.
    expect(res.body).toMatchObject({ total_excl_vat: '9.90', total_vat: '1.88', total: '11.78' });
    // Another user type gets the plain price.
    const visitor = await newUser('quote-visitor@example.com', 'visitor');
    expect((await quote({ user_id: visitor })).body.total).toBe('13.09');
    await acme.call('POST', `/billing-rules/${rule.body.id}/disable`);
  });

  it('shows a promotional code and an allowance without redeeming or consuming anything', async () => {
    const code = await acme.call('POST', '/promotional-codes', {
      body: { code: 'QUOTE2', discount_type: 'amount', discount_value: '2.00', currency: 'EUR' },
    });
    expect(code.status).toBe(201);
    const driver = await newUser('quote-driver@example.com');
    const before = await tableCounts(h.db);

    const promo = await quote({ user_id: driver, promotional_code: 'quote2' });
    expect(promo.status).toBe(200);
    expect(promo.body.promotion).toMatchObject({ code: 'QUOTE2', applied: true });
    // 2.00 off 11.00 takes 2/11 of the 2.09 VAT: 0.38.
    expect(promo.body).toMatchObject({ total_excl_vat: '9.00', total_vat: '1.71', total: '10.71' });

    const allowance = await acme.call('PUT', `/monthly-energy/users/${driver}/allowance`, {
      body: { monthly_kwh: 5 },
    });
    expect(allowance.status).toBe(200);
    const afterAllowance = await tableCounts(h.db);
    const free = await quote({ user_id: driver, started_at: new Date().toISOString() });
    expect(free.status).toBe(200);
    // The first 5 of 20 kWh are free: 15 × 0.40 = 6.00 + 1.00 + 2.00.
    expect(free.body).toMatchObject({ total_excl_vat: '9.00', total: '10.71' });
    expect(free.body.lines.find((l: Json) => l.kind === 'allowance')).toMatchObject({
      quantity: '5',
      amount: '0.00',
    });

    expect(await tableCounts(h.db)).toEqual(afterAllowance);
    expect(afterAllowance.promotion_redemptions).toBe(before.promotion_redemptions);
    expect(afterAllowance.allowance_consumptions).toBe(before.allowance_consumptions);
  });

  describe('refuses bad input with the parameter at fault, writing nothing', () => {
    it.each([
      ['missing energy', { energy_kwh: undefined }, 400, 'energy_kwh'],
      ['negative energy', { energy_kwh: '-1' }, 400, 'energy_kwh'],
      ['energy as text', { energy_kwh: 'lots' }, 400, 'energy_kwh'],
      ['missing charging minutes', { charging_minutes: undefined }, 400, 'charging_minutes'],
      ['more than a week', { charging_minutes: 10_081 }, 400, 'charging_minutes'],
      ['connector 0', { connector_id: 0 }, 400, 'connector_id'],
      ['bad instant', { started_at: 'yesterday' }, 400, 'started_at'],
      ['unknown field', { discount: 5 }, 400, 'discount'],
      ['unknown charge point', { charge_point_id: 'cp_nope' }, 404, 'charge_point_id'],
      ['unknown user', { user_id: 'usr_nope' }, 404, 'user_id'],
      ['unknown promotional code', { promotional_code: 'NOPE' }, 400, 'promotional_code'],
    ])('%s', async (_name, override, status, param) => {
      const before = await tableCounts(h.db);
      expectError(await quote(override), status, param);
      expect(await tableCounts(h.db)).toEqual(before);
    });

    it('a charge point without a tariff', async () => {
      const { site } = await createSiteFor(acme);
      const bare = await acme.call('POST', '/charge-points', {
        body: { identity: 'CP-QUOTE-BARE', site_id: site.id, hold_amount: '40' },
      });
      expectError(await quote({ charge_point_id: bare.body.id }), 422, 'charge_point_id', 'no_tariff');
    });
  });
});
