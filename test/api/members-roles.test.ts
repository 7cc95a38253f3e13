import { createHash } from 'node:crypto';
import { apiRouter } from '../../api/app';
import type { ResolvedDeps } from '../../api/deps';
import { migrateLatest } from '../../db/knex';
import { findPrincipalByApiKey } from '../../db/repositories/organizations';
import { createTestDatabase } from '../support/database';
import { expectError, Harness, startHarness, tableCounts, Tenant } from './helpers';

// Members, roles and API keys: each key acts with its member's role; every route checks the role before it
// reads or writes anything; another organization's ids are unknown (404), a missing role is 403.

let h: Harness;
let acme: Tenant;
let globex: Tenant;
const keys: Record<'admin' | 'billing' | 'viewer', Tenant['call']> = {} as never;
const memberIds: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness('members');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  for (const role of ['admin', 'billing', 'viewer'] as const) {
    const member = await acme.call('POST', '/members', {
      body: { email: `${role}@acme.example`, name: role, role },
    });
    expect(member.status).toBe(201);
    memberIds[role] = member.body.id;
    const key = await acme.call('POST', `/members/${member.body.id}/api-keys`, { body: { name: 'cli' } });
    expect(key.body.secret).toMatch(/^sk_/);
    keys[role] = (method, path, options) => h.call(method, path, { ...options, key: key.body.secret });
  }
});
afterAll(() => h.close());

/** Every route the API serves, with placeholder ids. */
function routes(): { method: string; path: string }[] {
  const router = apiRouter({ db: h.db } as ResolvedDeps) as unknown as {
    stack: { route?: { path: string; methods: Record<string, boolean> } }[];
  };
  return router.stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route!.methods).map((method) => ({
        method: method.toUpperCase(),
        path: layer.route!.path.replace(/:[a-z_]+/gi, 'x_1'),
      })),
    );
}

// Routes any member may call on their own behalf (their own API keys).
const SELF_SERVICE = new Set(['POST /members/x_1/api-keys', 'DELETE /api-keys/x_1']);
// Reads only the deciders need: what waits for their decision.
const DECIDERS_ONLY = new Set(['GET /exemptions/pending']);
// Reads for accounting integrations: who changed which price is not for viewers.
const ACCOUNTING_ONLY = new Set(['GET /audit-log']);
// Named so that the sweep below cannot pass by not finding them. Several answer 503 without webhook delivery
// configured (as here), but only after the role check.
const WEBHOOK_AND_EVENT_ROUTES = [
  'POST /webhook-endpoints',
  'PATCH /webhook-endpoints/x_1',
  'POST /webhook-endpoints/x_1/rotate-secret',
  'POST /webhook-endpoints/x_1/ping',
  'POST /webhook-endpoints/x_1/replays',
  'GET /webhook-endpoints',
  'GET /webhook-endpoints/x_1',
  'GET /webhook-endpoints/x_1/deliveries',
  'GET /webhook-endpoints/x_1/deliveries/x_1',
  'GET /events',
  'GET /events/x_1',
  'GET /audit-log',
];

describe('roles on every route', () => {
  it('lets a viewer read everything and write nothing: 403 before any validation, nothing written', async () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(40);
    expect(all.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(WEBHOOK_AND_EVENT_ROUTES));
    const before = await tableCounts(h.db);
    for (const { method, path } of all) {
      const res = await keys.viewer(method, path, method === 'GET' ? {} : { body: { anything: 1 } });
      if (DECIDERS_ONLY.has(`${method} ${path}`) || ACCOUNTING_ONLY.has(`${method} ${path}`)) {
        expect({ route: `${method} ${path}`, status: res.status }).toEqual({
          route: `${method} ${path}`,
          status: 403,
        });
      } else if (method === 'GET') {
        expect({ route: `${method} ${path}`, status: res.status }).not.toEqual(
          expect.objectContaining({ status: 403 }),
        );
      } else if (!SELF_SERVICE.has(`${method} ${path}`)) {
        expect({ route: `${method} ${path}`, status: res.status, code: res.body.error?.code }).toEqual({
          route: `${method} ${path}`,
          status: 403,
          code: 'role_not_allowed',
        });
      }
    }
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it('lets a billing delegate past the role check of every webhook, event and audit-log route', async () => {
    const before = await tableCounts(h.db);
    for (const route of WEBHOOK_AND_EVENT_ROUTES) {
      const [method, path] = route.split(' ');
      const res = await keys.billing(method, path, method === 'GET' ? {} : { body: { anything: 1 } });
      expect({ route, status: res.status }).not.toEqual(expect.objectContaining({ status: 403 }));
    }
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it('keeps a billing delegate out of operating the network', async () => {
    const res = await keys.billing('POST', '/tariffs', { body: {} });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ type: 'permission_error', code: 'role_not_allowed' });
    expect(res.body.error.message).toContain("role 'billing'");
  });

  it('lets an admin operate but not manage members', async () => {
    expect((await keys.admin('POST', '/projects', { body: { name: 'P' } })).status).toBe(201);
    const before = await tableCounts(h.db);
    expect(
      (await keys.admin('POST', '/members', { body: { email: 'x@acme.example', role: 'owner' } })).status,
    ).toBe(403);
    expect(
      (await keys.admin('PATCH', `/members/${memberIds.viewer}`, { body: { role: 'owner' } })).status,
    ).toBe(403);
    expect(await tableCounts(h.db)).toEqual(before);
  });
});

describe('organization billing contact', () => {
  const contact = {
    email: 'ap@acme.example',
    name: 'Acme GmbH',
    address: { line1: 'Hauptstr. 1', postal_code: '10115', city: 'Berlin', country: 'DE' },
    vat_number: 'DE123456789',
  };

  it('a billing delegate sets the billing contact but not the settings', async () => {
    const res = await keys.billing('PATCH', `/organizations/${acme.org.id}`, {
      body: { billing_contact: contact },
    });
    expect(res.status).toBe(200);
    expect(res.body.billing_contact).toEqual({ ...contact, address: { ...contact.address, line2: null } });
    expect(res.body.currency).toBe('EUR');
    const refused = await keys.billing('PATCH', `/organizations/${acme.org.id}`, {
      body: { time_zone: 'Europe/Paris', billing_contact: { name: 'Other' } },
    });
    expect(refused.status).toBe(403);
    const read = await keys.viewer('GET', `/organizations/${acme.org.id}`);
    expect(read.body).toMatchObject({ time_zone: acme.org.timeZone, billing_contact: { name: 'Acme GmbH' } });
  });

  it('changes one field, clears one with null, and names a bad nested field', async () => {
    const res = await acme.call('PATCH', `/organizations/${acme.org.id}`, {
      body: { currency: 'CHF', billing_contact: { vat_number: null, name: 'Acme AG' } },
    });
    expect(res.body).toMatchObject({
      currency: 'CHF',
      billing_contact: { email: 'ap@acme.example', name: 'Acme AG', vat_number: null },
    });
    const before = await tableCounts(h.db);
    for (const [body, param] of [
      [
        { billing_contact: { address: { ...contact.address, country: 'Germany' } } },
        'billing_contact.address.country',
      ],
      [{ billing_contact: { address: { line1: 'x' } } }, 'billing_contact.address.postal_code'],
      [{ billing_contact: { email: 'not-mail' } }, 'billing_contact.email'],
      [{ billing_contact: { vat: 'x' } }, 'billing_contact.vat'],
      [{ billing_contact: 'ap@acme.example' }, 'billing_contact'],
      [{ currency: 'XXY' }, 'currency'],
    ] as const) {
      expectError(await acme.call('PATCH', `/organizations/${acme.org.id}`, { body }), 400, param);
    }
    expect(await tableCounts(h.db)).toEqual(before);
  });
});

describe('members and API keys', () => {
  it('keeps at least one owner', async () => {
    const members = (await acme.call('GET', '/members')).body.data as { id: string; role: string }[];
    const owner = members.find((m) => m.role === 'owner')!;
    const demote = await acme.call('PATCH', `/members/${owner.id}`, { body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect(demote.body.error.code).toBe('last_owner');
    expect((await acme.call('DELETE', `/members/${owner.id}`)).status).toBe(409);
  });

  it('refuses a second member with the same e-mail, whatever its case', async () => {
    const res = await acme.call('POST', '/members', {
      body: { email: 'VIEWER@acme.example', role: 'viewer' },
    });
    expectError(res, 409, 'email');
  });

  it("answers another organization's member as unknown", async () => {
    expectError(await globex.call('GET', `/members/${memberIds.viewer}`), 404, null);
    expectError(
      await globex.call('PATCH', `/members/${memberIds.viewer}`, { body: { role: 'owner' } }),
      404,
      null,
    );
  });

  it('lets a member manage their own keys only', async () => {
    const own = await keys.viewer('POST', `/members/${memberIds.viewer}/api-keys`, {
      body: { name: 'laptop' },
    });
    expect(own.status).toBe(201);
    expect(
      (await keys.viewer('POST', `/members/${memberIds.admin}/api-keys`, { body: { name: 'x' } })).status,
    ).toBe(403);
    const listed = (await keys.viewer('GET', '/api-keys')).body.data as {
      member_id: string;
      secret?: string;
    }[];
    expect(listed.every((k) => k.member_id === memberIds.viewer && k.secret === undefined)).toBe(true);
    expect((await keys.viewer('DELETE', `/api-keys/${own.body.id}`)).body.revoked_at).not.toBeNull();
  });

  it('removing a member revokes their keys at once', async () => {
    const temp = await acme.call('POST', '/members', { body: { email: 'temp@acme.example', role: 'admin' } });
    const key = await acme.call('POST', `/members/${temp.body.id}/api-keys`, { body: { name: 'k' } });
    expect((await h.call('GET', '/members', { key: key.body.secret })).status).toBe(200);
    expect((await acme.call('DELETE', `/members/${temp.body.id}`)).body.removed).toBe(true);
    expect((await h.call('GET', '/members', { key: key.body.secret })).status).toBe(401);
    // The address may be invited again.
    expect(
      (await acme.call('POST', '/members', { body: { email: 'temp@acme.example', role: 'viewer' } })).status,
    ).toBe(201);
  });
});

describe('migration 010 on an existing organization', () => {
  it('gives every organization an owner who holds its existing keys', async () => {
    const tdb = await createTestDatabase('migr010', { upTo: '009_declined_hold_policy' });
    try {
      await tdb.db('organizations').insert({ id: 'org_OLD', name: 'Old' });
      const secret = `sk_${'a'.repeat(32)}`;
      await tdb.db('api_keys').insert({
        id: 'key_OLD',
        organization_id: 'org_OLD',
        name: 'legacy',
        key_prefix: secret.slice(0, 7),
        key_hash: createHash('sha256').update(secret).digest('hex'),
      });
      await migrateLatest(tdb.db);
      const principal = await findPrincipalByApiKey(tdb.db, secret);
      expect(principal).toMatchObject({ role: 'owner', organization: { id: 'org_OLD', currency: 'EUR' } });
    } finally {
      await tdb.drop();
    }
  });
});
