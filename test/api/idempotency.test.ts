import { expectError, Harness, startHarness, tableCounts, TARIFF_BODY, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;

beforeAll(async () => {
  h = await startHarness('idempotency');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
});
afterAll(() => h.close());

const withKey = (key: string) => ({ 'idempotency-key': key });
const tariffCount = async (orgId: string) =>
  Number((await h.db('tariffs').where({ organization_id: orgId }).count<{ n: number }[]>('* as n'))[0].n);

describe('Idempotency-Key on POST', () => {
  it('replays the stored response for the same key and body, creating one object', async () => {
    const before = await tariffCount(acme.org.id);
    const first = await acme.call('POST', '/tariffs', {
      body: TARIFF_BODY,
      headers: withKey('create-tariff-1'),
    });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // Same body with other key order and white space is the same request.
    const reordered = JSON.stringify({
      components: TARIFF_BODY.components,
      currency: 'EUR',
      name: TARIFF_BODY.name,
    });
    const second = await acme.call('POST', '/tariffs', {
      rawBody: ` ${reordered} `,
      headers: withKey('create-tariff-1'),
    });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await tariffCount(acme.org.id)).toBe(before + 1);
  });

  it('refuses the same key with a different body with 409 idempotency_key_reused', async () => {
    await acme.call('POST', '/projects', { body: { name: 'A' }, headers: withKey('k-body') });
    const before = await tableCounts(h.db);
    const res = await acme.call('POST', '/projects', { body: { name: 'B' }, headers: withKey('k-body') });
    expectError(res, 409, 'Idempotency-Key', 'idempotency_key_reused');
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it('refuses the same key on a different path', async () => {
    await acme.call('POST', '/projects', { body: { name: 'A' }, headers: withKey('k-path') });
    const res = await acme.call('POST', '/user-types', { body: { name: 'a' }, headers: withKey('k-path') });
    expectError(res, 409, 'Idempotency-Key', 'idempotency_key_reused');
    expect(await h.db('user_types').where({ organization_id: acme.org.id, name: 'a' })).toHaveLength(0);
  });

  it('scopes keys to the organization', async () => {
    const a = await acme.call('POST', '/projects', {
      body: { name: 'Same' },
      headers: withKey('shared-key'),
    });
    const b = await globex.call('POST', '/projects', {
      body: { name: 'Same' },
      headers: withKey('shared-key'),
    });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('stores nothing for a refused request, so the key can be used again once the body is fixed', async () => {
    const before = await tableCounts(h.db);
    const bad = await acme.call('POST', '/tariffs', {
      body: { ...TARIFF_BODY, currency: 'EURO' },
      headers: withKey('fix-and-retry'),
    });
    expectError(bad, 400, 'currency', 'parameter_invalid');
    expect(await tableCounts(h.db)).toEqual(before);
    const good = await acme.call('POST', '/tariffs', {
      body: TARIFF_BODY,
      headers: withKey('fix-and-retry'),
    });
    expect(good.status).toBe(201);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it('lets concurrent duplicates create one object and answer it to both', async () => {
    const before = await tariffCount(acme.org.id);
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        acme.call('POST', '/tariffs', { body: TARIFF_BODY, headers: withKey('concurrent-1') }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
    expect(await tariffCount(acme.org.id)).toBe(before + 1);
  });

  it('without a key, the same POST twice creates two objects', async () => {
    const a = await acme.call('POST', '/projects', { body: { name: 'Twice' } });
    const b = await acme.call('POST', '/projects', { body: { name: 'Twice' } });
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('refuses a key longer than 255 characters', async () => {
    const before = await tableCounts(h.db);
    const res = await acme.call('POST', '/projects', {
      body: { name: 'x' },
      headers: withKey('k'.repeat(256)),
    });
    expectError(res, 400, 'Idempotency-Key', 'parameter_invalid');
    expect(await tableCounts(h.db)).toEqual(before);
  });
});
