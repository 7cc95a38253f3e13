import { expectError, Harness, startHarness, tableCounts, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;

beforeAll(async () => {
  h = await startHarness('users');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
});
afterAll(() => h.close());

const newUser = (t: Tenant, email: string, extra: Record<string, unknown> = {}) =>
  t.call('POST', '/users', { body: { email, name: 'Dana Driver', user_type: 'public', ...extra } });

describe('user types', () => {
  it('creates, reads and lists a custom user type', async () => {
    const res = await acme.call('POST', '/user-types', {
      body: { name: 'night-shift', description: 'Staff at night' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      object: 'user_type',
      id: 'night-shift',
      name: 'night-shift',
      description: 'Staff at night',
      tariff_id: null,
    });
    expect((await acme.call('GET', '/user-types/night-shift')).body).toEqual(res.body);
    const names = (await acme.call('GET', '/user-types?limit=100')).body.data.map(
      (t: { name: string }) => t.name,
    );
    expect(names).toEqual(['employee', 'fleet', 'member', 'night-shift', 'public', 'visitor']);
    // Another organization does not see it.
    expectError(await globex.call('GET', '/user-types/night-shift'), 404, null, 'resource_missing');
  });
});

describe('users', () => {
  it('creates and reads a user, e-mail stored lower-case', async () => {
    const res = await newUser(acme, ' Dana@Example.com ', {
      payment_method_id: 'pm_card_visa',
      user_type: 'employee',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      object: 'user',
      id: expect.stringMatching(/^usr_/),
      email: 'dana@example.com',
      name: 'Dana Driver',
      user_type: 'employee',
      payment_customer_id: null,
      payment_method_id: 'pm_card_visa',
      membership_valid_until: null,
      created_at: expect.any(String),
    });
    expect((await acme.call('GET', `/users/${res.body.id}`)).body).toEqual(res.body);
    const list = await acme.call('GET', '/users?user_type=employee');
    expect(list.body.data.map((u: { id: string }) => u.id)).toEqual([res.body.id]);
  });

  it('the same e-mail may exist in another organization', async () => {
    await newUser(acme, 'shared@example.com');
    expect((await newUser(globex, 'shared@example.com')).status).toBe(201);
  });
});

describe('id tags', () => {
  it('creates and reads an id tag, Accepted by default', async () => {
    const user = (await newUser(acme, 'tag-owner@example.com')).body;
    const res = await acme.call('POST', '/id-tags', {
      body: { id_tag: 'RFID-0001', user_id: user.id, type: 'rfid', expires_at: '2027-01-31T23:59:59+01:00' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      object: 'id_tag',
      id: expect.stringMatching(/^tag_/),
      id_tag: 'RFID-0001',
      user_id: user.id,
      type: 'rfid',
      status: 'Accepted',
      expires_at: '2027-01-31T22:59:59.000Z',
      roaming_party: null,
      created_at: expect.any(String),
    });
    expect((await acme.call('GET', `/id-tags/${res.body.id}`)).body).toEqual(res.body);
    const blocked = await acme.call('POST', '/id-tags', {
      body: { id_tag: 'APP-7', user_id: user.id, type: 'app', status: 'Blocked' },
    });
    expect(blocked.body).toMatchObject({ status: 'Blocked', expires_at: null });
    const list = await acme.call('GET', `/id-tags?user_id=${user.id}`);
    expect(list.body.data.map((t: { id_tag: string }) => t.id_tag)).toEqual(['RFID-0001', 'APP-7']);
  });
});

describe('user types, users and id tags: bad input', () => {
  let before: Record<string, number>;
  let userId: string;
  let foreignUserId: string;
  beforeAll(async () => {
    userId = (await newUser(acme, 'bad-input@example.com')).body.id;
    foreignUserId = (await newUser(globex, 'foreign@example.com')).body.id;
    await acme.call('POST', '/id-tags', { body: { id_tag: 'TAKEN-1', user_id: userId, type: 'rfid' } });
  });
  beforeEach(async () => {
    before = await tableCounts(h.db);
  });
  afterEach(async () => {
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it.each<[string, unknown, number, string, string]>([
    ['missing name', { description: 'x' }, 400, 'name', 'parameter_missing'],
    ['upper-case name', { name: 'Fleet' }, 400, 'name', 'parameter_invalid'],
    ['name with a space', { name: 'night shift' }, 400, 'name', 'parameter_invalid'],
    ['name too long', { name: 'a'.repeat(51) }, 400, 'name', 'parameter_invalid'],
    ['description as a number', { name: 'ok', description: 5 }, 400, 'description', 'parameter_invalid'],
    ['an existing name', { name: 'fleet' }, 409, 'name', 'resource_already_exists'],
  ])('POST /user-types with %s', async (_label, body, status, param, code) => {
    expectError(await acme.call('POST', '/user-types', { body }), status, param, code);
  });

  const user = (extra: Record<string, unknown>) => ({
    email: 'new@example.com',
    name: 'New',
    user_type: 'public',
    ...extra,
  });
  it.each<[string, unknown, number, string, string]>([
    ['missing email', user({ email: undefined }), 400, 'email', 'parameter_missing'],
    ['malformed email', user({ email: 'not-an-email' }), 400, 'email', 'parameter_invalid'],
    ['email as a number', user({ email: 12 }), 400, 'email', 'parameter_invalid'],
    ['missing name', user({ name: undefined }), 400, 'name', 'parameter_missing'],
    ['missing user_type', user({ user_type: undefined }), 400, 'user_type', 'parameter_missing'],
    ['unknown user_type', user({ user_type: 'vip' }), 404, 'user_type', 'resource_missing'],
    [
      'payment_method_id with spaces',
      user({ payment_method_id: 'pm card' }),
      400,
      'payment_method_id',
      'parameter_invalid',
    ],
    [
      'payment_customer_id as an object',
      user({ payment_customer_id: {} }),
      400,
      'payment_customer_id',
      'parameter_invalid',
    ],
    [
      'an e-mail already used, other case',
      user({ email: 'BAD-INPUT@example.com' }),
      409,
      'email',
      'resource_already_exists',
    ],
    ['unknown field', user({ role: 'admin' }), 400, 'role', 'parameter_unknown'],
  ])('POST /users with %s', async (_label, body, status, param, code) => {
    expectError(await acme.call('POST', '/users', { body }), status, param, code);
  });

  const tag = (extra: Record<string, unknown>) => ({
    id_tag: 'NEW-TAG',
    user_id: userId,
    type: 'rfid',
    ...extra,
  });
  it.each<[string, () => unknown, number, string, string]>([
    ['missing id_tag', () => tag({ id_tag: undefined }), 400, 'id_tag', 'parameter_missing'],
    ['id_tag of 21 characters', () => tag({ id_tag: 'T'.repeat(21) }), 400, 'id_tag', 'parameter_invalid'],
    ['non-ASCII id_tag', () => tag({ id_tag: 'TAG-é' }), 400, 'id_tag', 'parameter_invalid'],
    ['id_tag as a number', () => tag({ id_tag: 1234 }), 400, 'id_tag', 'parameter_invalid'],
    ['missing user_id', () => tag({ user_id: undefined }), 400, 'user_id', 'parameter_missing'],
    ['unknown user', () => tag({ user_id: 'usr_nope' }), 404, 'user_id', 'resource_missing'],
    [
      "another organization's user",
      () => tag({ user_id: foreignUserId }),
      404,
      'user_id',
      'resource_missing',
    ],
    ['missing type', () => tag({ type: undefined }), 400, 'type', 'parameter_missing'],
    ['unknown type', () => tag({ type: 'nfc' }), 400, 'type', 'parameter_invalid'],
    ['unknown status', () => tag({ status: 'Expired' }), 400, 'status', 'parameter_invalid'],
    ['expires_at not a date', () => tag({ expires_at: 'soon' }), 400, 'expires_at', 'parameter_invalid'],
    [
      'expires_at an impossible date',
      () => tag({ expires_at: '2026-02-30T00:00:00Z' }),
      400,
      'expires_at',
      'parameter_invalid',
    ],
    [
      'a tag already registered, other case',
      () => tag({ id_tag: 'taken-1' }),
      409,
      'id_tag',
      'resource_already_exists',
    ],
  ])('POST /id-tags with %s', async (_label, body, status, param, code) => {
    expectError(await acme.call('POST', '/id-tags', { body: body() }), status, param, code);
  });

  it('an id tag is global: another organization cannot register it either', async () => {
    const res = await globex.call('POST', '/id-tags', {
      body: { id_tag: 'TAKEN-1', user_id: foreignUserId, type: 'app' },
    });
    expectError(res, 409, 'id_tag', 'resource_already_exists');
  });

  it('malformed JSON -> 400 on each create route', async () => {
    for (const path of ['/user-types', '/users', '/id-tags']) {
      expectError(await acme.call('POST', path, { rawBody: '{"name":' }), 400, 'body', 'json_invalid');
    }
  });
});
