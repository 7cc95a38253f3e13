import { createHash } from 'node:crypto';
import {
  createApiKey,
  createOrganization,
  DEFAULT_USER_TYPES,
  findPrincipalByApiKey,
  revokeApiKey,
} from '../../db/repositories/organizations';
import { expectError, Harness, Json, startHarness, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;

beforeAll(async () => {
  h = await startHarness('auth');
  acme = await h.tenant('Acme');
});
afterAll(() => h.close());

describe('organizations and API keys (repository)', () => {
  it('creates an organization with the default user types', async () => {
    const org = await createOrganization(h.db, { name: 'Defaults' });
    const names = (await h.db('user_types').where({ organization_id: org.id }).orderBy('name')).map(
      (t) => t.name,
    );
    expect(names).toEqual(DEFAULT_USER_TYPES.map((t) => t.name).sort());
    expect(names).toEqual(['employee', 'fleet', 'member', 'public', 'visitor']);
  });

  it('returns the secret once and stores only its sha256 and a short prefix', async () => {
    const org = await createOrganization(h.db, { name: 'Keys' });
    const a = await createApiKey(h.db, org.id, 'first');
    const b = await createApiKey(h.db, org.id, 'second');
    expect(a.secret).toMatch(/^sk_[0-9A-Za-z]{32}$/);
    expect(b.secret).not.toBe(a.secret);
    const row = await h.db('api_keys').where({ id: a.id }).first();
    expect(row.key_hash).toBe(createHash('sha256').update(a.secret).digest('hex'));
    expect(row.key_prefix).toBe(a.secret.slice(0, 7));
    expect(JSON.stringify(row)).not.toContain(a.secret);
  });

  it('finds the organization by secret, and nothing for unknown, malformed or revoked keys', async () => {
    const org = await createOrganization(h.db, { name: 'Lookup' });
    const { id, secret } = await createApiKey(h.db, org.id, 'k');
    expect((await findPrincipalByApiKey(h.db, secret))?.organization.id).toBe(org.id);
    expect(await findPrincipalByApiKey(h.db, `sk_${'A'.repeat(32)}`)).toBeUndefined();
    expect(await findPrincipalByApiKey(h.db, secret.slice(0, -1))).toBeUndefined();
    expect(await revokeApiKey(h.db, org.id, id)).toBe(true);
    expect(await findPrincipalByApiKey(h.db, secret)).toBeUndefined();
  });
});

describe('API authentication', () => {
  it('accepts a valid key', async () => {
    const res = await acme.call('GET', '/projects');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ object: 'list', data: [], has_more: false, next_cursor: null });
  });

  it('answers 401 authentication_error without a key', async () => {
    const res = await h.call('GET', '/projects');
    expectError(res, 401, null, 'api_key_missing');
    expect(res.body.error.type).toBe('authentication_error');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it.each([
    ['an unknown key', `Bearer sk_${'x'.repeat(32)}`],
    ['a malformed key', 'Bearer not-a-key'],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a bare key without scheme', `sk_${'x'.repeat(32)}`],
  ])('answers 401 for %s', async (_label, header) => {
    const res = await h.call('GET', '/projects', { headers: { authorization: header } });
    expectError(res, 401, null, 'api_key_invalid');
    expect(res.body.error.type).toBe('authentication_error');
  });

  it('answers 401 for a revoked key, also on POST, and writes nothing', async () => {
    const org = await createOrganization(h.db, { name: 'Revoked' });
    const { id, secret } = await createApiKey(h.db, org.id, 'old');
    await revokeApiKey(h.db, org.id, id);
    const res = await h.call('POST', '/projects', { key: secret, body: { name: 'x' } });
    expectError(res, 401, null, 'api_key_invalid');
    expect(await h.db('projects').where({ organization_id: org.id })).toHaveLength(0);
  });

  it('checks the key before reading the body', async () => {
    const res = await h.call('POST', '/projects', { rawBody: '{not json' });
    expectError(res, 401, null, 'api_key_missing');
  });

  it('answers an unknown route with 404 in the error shape, inside and outside the API prefix', async () => {
    expectError(await acme.call('GET', '/no-such-thing'), 404, null, 'route_unknown');
    expectError(await h.call('GET', '/../../nowhere'), 404, null, 'route_unknown');
    const outside = await fetch(h.baseUrl.replace('/api/v1/billing', '/robots.txt'));
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as Json).error.code).toBe('route_unknown');
  });
});
