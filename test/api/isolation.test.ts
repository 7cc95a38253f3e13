import { newId } from '../../db/ids';
import {
  createSiteFor,
  expectError,
  Harness,
  startHarness,
  tableCounts,
  TARIFF_BODY,
  Tenant,
} from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;
const acmeIds: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness('isolation');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  const { project, site } = await createSiteFor(acme);
  acmeIds.project = project.id;
  acmeIds.site = site.id;
  acmeIds.tariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body.id;
  acmeIds.chargePoint = (
    await acme.call('POST', '/charge-points', {
      body: { identity: 'ACME-1', site_id: site.id, hold_amount: '30' },
    })
  ).body.id;
  acmeIds.user = (
    await acme.call('POST', '/users', { body: { email: 'a@acme.test', name: 'A', user_type: 'public' } })
  ).body.id;
  acmeIds.idTag = (
    await acme.call('POST', '/id-tags', { body: { id_tag: 'ACME-TAG', user_id: acmeIds.user, type: 'rfid' } })
  ).body.id;
  acmeIds.session = newId('ses');
  await h.db('charging_sessions').insert({
    id: acmeIds.session,
    organization_id: acme.org.id,
    charge_point_id: acmeIds.chargePoint,
    connector_id: 1,
    id_tag: 'ACME-TAG',
    status: 'completed',
    meter_start_wh: '0',
    started_at: new Date(),
    workflow_id: 'charging-session:ACME-1:1',
  });
  await acme.call('POST', '/user-types', { body: { name: 'acme-staff' } });
  // Globex has objects of its own, so its lists are not trivially empty.
  await createSiteFor(globex);
  await globex.call('POST', '/tariffs', { body: TARIFF_BODY });
});
afterAll(() => h.close());

describe('organization isolation', () => {
  it.each([
    ['tariff', () => `/tariffs/${acmeIds.tariff}`],
    ['project', () => `/projects/${acmeIds.project}`],
    ['site', () => `/sites/${acmeIds.site}`],
    ['charge point', () => `/charge-points/${acmeIds.chargePoint}`],
    ['user', () => `/users/${acmeIds.user}`],
    ['id tag', () => `/id-tags/${acmeIds.idTag}`],
    ['session', () => `/sessions/${acmeIds.session}`],
    ['user type', () => '/user-types/acme-staff'],
  ])("another organization's %s answers 404, as an unknown id does", async (_label, path) => {
    expect((await acme.call('GET', path())).status).toBe(200);
    const res = await globex.call('GET', path());
    expectError(res, 404, null, 'resource_missing');
  });

  it.each([
    '/tariffs',
    '/projects',
    '/sites',
    '/charge-points',
    '/users',
    '/id-tags',
    '/sessions',
    '/user-types',
  ])("GET %s lists none of another organization's objects", async (path) => {
    const text = JSON.stringify((await globex.call('GET', `${path}?limit=100`)).body);
    for (const id of Object.values(acmeIds)) expect(text).not.toContain(id);
    expect(text).not.toContain('acme-staff');
  });

  it("refuses to write into another organization's objects, and writes nothing", async () => {
    const before = await tableCounts(h.db);
    const globexTariff = (await globex.call('GET', '/tariffs')).body.data[0].id;
    const cases: Array<[string, string, unknown, string | null]> = [
      ['POST', `/tariffs/${acmeIds.tariff}/versions`, { components: TARIFF_BODY.components }, null],
      [
        'POST',
        `/tariffs/${acmeIds.tariff}/assignments`,
        { scope_type: 'project', scope_id: acmeIds.project },
        null,
      ],
      [
        'POST',
        `/tariffs/${globexTariff}/assignments`,
        { scope_type: 'site', scope_id: acmeIds.site },
        'scope_id',
      ],
      [
        'POST',
        `/tariffs/${globexTariff}/assignments`,
        { scope_type: 'charge_point', scope_id: acmeIds.chargePoint },
        'scope_id',
      ],
      ['POST', '/sites', { project_id: acmeIds.project, name: 'S', time_zone: 'UTC' }, 'project_id'],
      ['POST', '/charge-points', { identity: 'G-1', site_id: acmeIds.site, hold_amount: '1' }, 'site_id'],
      ['POST', '/id-tags', { id_tag: 'G-TAG', user_id: acmeIds.user, type: 'rfid' }, 'user_id'],
      ['POST', '/users', { email: 'g@globex.test', name: 'G', user_type: 'acme-staff' }, 'user_type'],
    ];
    for (const [method, path, body, param] of cases) {
      expectError(await globex.call(method, path, { body }), 404, param, 'resource_missing');
    }
    expect(await tableCounts(h.db)).toEqual(before);
  });
});
