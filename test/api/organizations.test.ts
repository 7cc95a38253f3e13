import { expectError, Harness, startHarness, tableCounts, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;

beforeAll(async () => {
  h = await startHarness('organizations');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
});
afterAll(() => h.close());

describe('GET and PATCH /organizations/:id', () => {
  it('reads the own organization, UTC by default', async () => {
    const res = await acme.call('GET', `/organizations/${acme.org.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      object: 'organization',
      id: acme.org.id,
      name: 'Acme',
      currency: 'EUR',
      billing_contact: { email: null, name: null, address: null, vat_number: null },
      time_zone: 'UTC',
      stop_charging_on_declined_hold: true,
      payment_method_id: null,
      payment_customer_id: null,
      created_at: expect.any(String),
    });
  });

  it("sets the time zone, which the allowance's month then follows", async () => {
    const res = await acme.call('PATCH', `/organizations/${acme.org.id}`, {
      body: { time_zone: 'Pacific/Auckland' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Acme', time_zone: 'Pacific/Auckland' });
    const user = await acme.call('POST', '/users', {
      body: { email: 'tz@example.com', name: 'T', user_type: 'public' },
    });
    const allowance = await acme.call('PUT', `/monthly-energy/users/${user.body.id}/allowance`, {
      body: { monthly_kwh: 10 },
    });
    expect(allowance.body.time_zone).toBe('Pacific/Auckland');
    // An empty PATCH changes nothing and answers the organization.
    expect((await acme.call('PATCH', `/organizations/${acme.org.id}`, { body: {} })).body).toEqual(res.body);
  });

  it('lets sessions run on after a declined hold when the operator says so', async () => {
    const res = await acme.call('PATCH', `/organizations/${acme.org.id}`, {
      body: { stop_charging_on_declined_hold: false },
    });
    expect(res.body).toMatchObject({ stop_charging_on_declined_hold: false, time_zone: 'Pacific/Auckland' });
    expect(
      (await acme.call('GET', `/organizations/${acme.org.id}`)).body.stop_charging_on_declined_hold,
    ).toBe(false);
  });

  it.each([
    [
      'a policy that is not a boolean',
      { stop_charging_on_declined_hold: 'no' },
      'stop_charging_on_declined_hold',
    ],
    ['an offset', { time_zone: '+01:00' }, 'time_zone'],
    ['an unknown zone', { time_zone: 'Mars/Olympus' }, 'time_zone'],
    ['an empty name', { name: ' ' }, 'name'],
    ['an unknown field', { colour: 'red' }, 'colour'],
  ])('refuses %s, naming it, and writes nothing', async (_, body, param) => {
    const before = await tableCounts(h.db);
    expectError(await globex.call('PATCH', `/organizations/${globex.org.id}`, { body }), 400, param);
    expect(await tableCounts(h.db)).toEqual(before);
    expect((await globex.call('GET', `/organizations/${globex.org.id}`)).body.time_zone).toBe('UTC');
  });

  it("answers 404 for another organization's id", async () => {
    expectError(await acme.call('GET', `/organizations/${globex.org.id}`), 404, null, 'resource_missing');
    expectError(
      await acme.call('PATCH', `/organizations/${globex.org.id}`, { body: { time_zone: 'Europe/Paris' } }),
      404,
      null,
      'resource_missing',
    );
    expect((await globex.call('GET', `/organizations/${globex.org.id}`)).body.time_zone).toBe('UTC');
  });
});
