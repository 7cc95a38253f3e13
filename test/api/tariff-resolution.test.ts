import type { Knex } from 'knex';
import { createChargePoint } from '../../db/repositories/chargePoints';
import { newId } from '../../db/ids';
import { createOrganization } from '../../db/repositories/organizations';
import { createProject, createSite } from '../../db/repositories/sites';
import {
  assignTariff,
  createTariff,
  createTariffVersion,
  loadTariffVersion,
  resolveTariffForChargePoint,
} from '../../db/repositories/tariffs';
import { createTestDatabase, TestDatabase } from '../support/database';

let tdb: TestDatabase;
let db: Knex;

beforeAll(async () => {
  tdb = await createTestDatabase(`api_resolution`);
  db = tdb.db;
});
afterAll(() => tdb.drop());

const flat = (price: string) => [{ type: 'flat_fee' as const, price }];

/** An organization with one project, two sites, and two charge points on the first site, one on the second. */
async function network() {
  const org = await createOrganization(db, { name: 'Net' });
  const project = await createProject(db, org.id, { name: 'P' });
  const siteA = await createSite(db, org.id, { projectId: project.id, name: 'A', timeZone: 'UTC' });
  const siteB = await createSite(db, org.id, { projectId: project.id, name: 'B', timeZone: 'UTC' });
  const cp = (site: string) =>
    createChargePoint(db, org.id, { identity: newId('cp'), siteId: site, holdAmount: '50' });
  return {
    org,
    project,
    siteA,
    siteB,
    cpA1: await cp(siteA.id),
    cpA2: await cp(siteA.id),
    cpB: await cp(siteB.id),
  };
}

const tariff = (orgId: string, name: string, price: string) =>
  createTariff(db, orgId, { name, currency: 'EUR', components: flat(price) });

describe('resolveTariffForChargePoint: the most specific assignment wins', () => {
  it('charge point over site over project; nothing assigned -> undefined', async () => {
    const n = await network();
    const now = new Date();
    expect(await resolveTariffForChargePoint(db, n.cpA1.id, now)).toBeUndefined();

    const onProject = await tariff(n.org.id, 'project', '1');
    const onSite = await tariff(n.org.id, 'site', '2');
    const onCp = await tariff(n.org.id, 'cp', '3');
    await assignTariff(db, n.org.id, onProject.id, { scopeType: 'project', scopeId: n.project.id });
    expect((await resolveTariffForChargePoint(db, n.cpA1.id, now))?.tariffId).toBe(onProject.id);

    await assignTariff(db, n.org.id, onSite.id, { scopeType: 'site', scopeId: n.siteA.id });
    expect((await resolveTariffForChargePoint(db, n.cpA1.id, now))?.tariffId).toBe(onSite.id);

    await assignTariff(db, n.org.id, onCp.id, { scopeType: 'charge_point', scopeId: n.cpA1.id });
    expect((await resolveTariffForChargePoint(db, n.cpA1.id, now))?.tariffId).toBe(onCp.id);
    // Neighbours keep the less specific tariffs.
    expect((await resolveTariffForChargePoint(db, n.cpA2.id, now))?.tariffId).toBe(onSite.id);
    expect((await resolveTariffForChargePoint(db, n.cpB.id, now))?.tariffId).toBe(onProject.id);
  });

  it('answers the exact TariffVersion of pricing/, prices canonical as stored', async () => {
    const n = await network();
    const t = await createTariff(db, n.org.id, {
      name: 'Mixed',
      currency: 'EUR',
      components: [
        { type: 'flat_fee', price: '1.50' },
        { type: 'per_kwh', price: '0.350' },
        { type: 'per_minute', price: '0.000001' },
      ],
    });
    await assignTariff(db, n.org.id, t.id, { scopeType: 'site', scopeId: n.siteA.id });
    const resolved = await resolveTariffForChargePoint(db, n.cpA1.id, new Date());
    expect(resolved).toEqual({
      tariffId: t.id,
      versionId: t.currentVersion.versionId,
      version: 1,
      currency: 'EUR',
      components: [
        { type: 'flat_fee', price: '1.5' },
        { type: 'per_kwh', price: '0.35' },
        { type: 'per_minute', price: '0.000001' },
      ],
    });
    expect(await loadTariffVersion(db, t.currentVersion.versionId)).toEqual(resolved);
    expect(await loadTariffVersion(db, 'tarv_unknown')).toBeUndefined();
  });

  it('ignores an assignment row of another organization on this charge point', async () => {
    const n = await network();
    const other = await createOrganization(db, { name: 'Other' });
    const foreign = await tariff(other.id, 'foreign', '9');
    const own = await tariff(n.org.id, 'own', '1');
    await assignTariff(db, n.org.id, own.id, { scopeType: 'site', scopeId: n.siteA.id });
    // The API refuses this; written directly, it must still never price this organization's sessions.
    await db('tariff_assignments').insert({
      id: newId('tas'),
      organization_id: other.id,
      tariff_id: foreign.id,
      scope_type: 'charge_point',
      scope_id: n.cpA1.id,
    });
    expect((await resolveTariffForChargePoint(db, n.cpA1.id, new Date()))?.tariffId).toBe(own.id);
  });

  it('unknown charge point -> undefined', async () => {
    expect(await resolveTariffForChargePoint(db, 'cp_unknown', new Date())).toBeUndefined();
  });
});

describe('resolveTariffForChargePoint: the version in force when the session started', () => {
  it('picks the version by valid_from, not by when it was asked', async () => {
    const n = await network();
    const t = await tariff(n.org.id, 'T', '1');
    const t2 = new Date('2030-01-01T00:00:00Z');
    const t3 = new Date('2030-06-01T00:00:00Z');
    // Created out of order: the June version first, then the January one.
    const v2 = await createTariffVersion(db, n.org.id, t.id, {
      name: 'T',
      currency: 'EUR',
      components: flat('3'),
      validFrom: t3,
    });
    const v3 = await createTariffVersion(db, n.org.id, t.id, {
      name: 'T',
      currency: 'EUR',
      components: flat('2'),
      validFrom: t2,
    });
    await assignTariff(db, n.org.id, t.id, { scopeType: 'project', scopeId: n.project.id });
    const at = async (iso: string) =>
      (await resolveTariffForChargePoint(db, n.cpA1.id, new Date(iso)))?.versionId;

    expect(await at('2026-11-23T08:00:00Z')).toBe(t.currentVersion.versionId);
    expect(await at('2029-12-31T23:59:59.999Z')).toBe(t.currentVersion.versionId);
    expect(await at('2030-01-01T00:00:00Z')).toBe(v3?.versionId);
    expect(await at('2030-05-31T23:59:59Z')).toBe(v3?.versionId);
    expect(await at('2030-06-01T00:00:00Z')).toBe(v2?.versionId);
    expect(await at('2031-01-01T00:00:00Z')).toBe(v2?.versionId);
    expect(
      (await resolveTariffForChargePoint(db, n.cpA1.id, new Date('2030-02-01T00:00:00Z')))?.components,
    ).toEqual(flat('2'));
  });

  it('of two versions valid from the same instant, the later version wins', async () => {
    const n = await network();
    const t = await tariff(n.org.id, 'T', '1');
    const from = new Date('2031-01-01T00:00:00Z');
    await createTariffVersion(db, n.org.id, t.id, {
      name: 'T',
      currency: 'EUR',
      components: flat('4'),
      validFrom: from,
    });
    const fix = await createTariffVersion(db, n.org.id, t.id, {
      name: 'T',
      currency: 'EUR',
      components: flat('5'),
      validFrom: from,
    });
    await assignTariff(db, n.org.id, t.id, { scopeType: 'site', scopeId: n.siteA.id });
    expect((await resolveTariffForChargePoint(db, n.cpA1.id, from))?.versionId).toBe(fix?.versionId);
  });

  it('a new version leaves sessions that started before it on the old version', async () => {
    const n = await network();
    const t = await tariff(n.org.id, 'T', '1');
    await assignTariff(db, n.org.id, t.id, { scopeType: 'charge_point', scopeId: n.cpA1.id });
    const sessionStart = new Date();
    await new Promise((r) => setTimeout(r, 20));
    const v2 = await createTariffVersion(db, n.org.id, t.id, {
      name: 'T',
      currency: 'EUR',
      components: flat('7'),
    });
    expect(v2?.version).toBe(2);
    expect((await resolveTariffForChargePoint(db, n.cpA1.id, sessionStart))?.version).toBe(1);
    expect((await resolveTariffForChargePoint(db, n.cpA1.id, new Date(Date.now() + 1000)))?.version).toBe(2);
  });

  it('the winning tariff with no version in force yet -> undefined (no fallback to a less specific one)', async () => {
    const n = await network();
    const site = await tariff(n.org.id, 'site', '1');
    const scheduled = await createTariff(db, n.org.id, {
      name: 'from 2032',
      currency: 'EUR',
      components: flat('2'),
      validFrom: new Date('2032-01-01T00:00:00Z'),
    });
    await assignTariff(db, n.org.id, site.id, { scopeType: 'site', scopeId: n.siteA.id });
    await assignTariff(db, n.org.id, scheduled.id, { scopeType: 'charge_point', scopeId: n.cpA1.id });
    expect(
      await resolveTariffForChargePoint(db, n.cpA1.id, new Date('2031-12-31T00:00:00Z')),
    ).toBeUndefined();
    expect(
      (await resolveTariffForChargePoint(db, n.cpA1.id, new Date('2032-01-01T00:00:00Z')))?.tariffId,
    ).toBe(scheduled.id);
  });

  it('createTariffVersion numbers concurrent edits consecutively and refuses a foreign tariff', async () => {
    const n = await network();
    const t = await tariff(n.org.id, 'T', '1');
    const versions = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        createTariffVersion(db, n.org.id, t.id, { name: 'T', currency: 'EUR', components: flat(String(i)) }),
      ),
    );
    expect(versions.map((v) => v?.version).sort()).toEqual([2, 3, 4, 5]);
    const other = await createOrganization(db, { name: 'Other' });
    expect(
      await createTariffVersion(db, other.id, t.id, { name: 'T', currency: 'EUR', components: flat('1') }),
    ).toBeUndefined();
  });
});
