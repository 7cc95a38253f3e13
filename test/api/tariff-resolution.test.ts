import type { Knex } from 'knex';
import { createChargePoint } from '../../db/repositories/chargePoints';
import { newId } from '../../db/ids';
import { createDb, dropDatabase, ensureDatabase, migrateLatest } from '../../db/knex';
import * as initialMigration from '../../db/migrations/001_initial';
import { createOrganization } from '../../db/repositories/organizations';
import { createProject, createSite } from '../../db/repositories/sites';
import {
  assignTariff,
  createTariff,
  createTariffVersion,
  loadTariffVersion,
  resolveTariffForChargePoint,
  resolveTariffForSession,
} from '../../db/repositories/tariffs';
import { createUserType, updateUserType } from '../../db/repositories/users';
import type { TariffDefinition } from '../../pricing/model';
import { definitionFromSimpleComponents } from '../../pricing/tariff-definition';
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
      definition: {
        currency: 'EUR',
        elements: [
          {
            price_components: [
              { type: 'FLAT', price: '1.5', vat: null, step_size: 1 },
              { type: 'ENERGY', price: '0.35', vat: null, step_size: 1 },
              { type: 'TIME', price: '0.00006', vat: null, step_size: 1 },
            ],
          },
        ],
      },
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

const fullDefinition = (price: string, extra: Partial<TariffDefinition> = {}): TariffDefinition => ({
  currency: 'EUR',
  elements: [
    { price_components: [{ type: 'ENERGY', price, vat: '21', step_size: 1000 }] },
    {
      price_components: [{ type: 'PARKING_TIME', price: '6', vat: '21', step_size: 60 }],
      restrictions: { start_time: '08:00', end_time: '20:00', day_of_week: ['MONDAY', 'FRIDAY'] },
    },
  ],
  ...extra,
});

describe('full-form versions', () => {
  it('store the definition exactly and no components', async () => {
    const n = await network();
    const definition = fullDefinition('0.4', {
      min_price: { excl_vat: '2', incl_vat: '2.42' },
      idle: { grace_period_seconds: 600, max_cost: '15' },
    });
    const t = await createTariff(db, n.org.id, { name: 'Full', currency: 'EUR', definition });
    expect(t.currentVersion.definition).toEqual(definition);
    expect(t.currentVersion).not.toHaveProperty('components');
    const rows = await db('tariff_components').where({ tariff_version_id: t.currentVersion.versionId });
    expect(rows).toHaveLength(0);
    expect(await loadTariffVersion(db, t.currentVersion.versionId)).toStrictEqual({
      tariffId: t.id,
      versionId: t.currentVersion.versionId,
      version: 1,
      currency: 'EUR',
      definition,
    });
  });

  it('refuse a definition in another currency than the version, in code and in the database', async () => {
    const n = await network();
    await expect(
      createTariff(db, n.org.id, { name: 'X', currency: 'USD', definition: fullDefinition('1') }),
    ).rejects.toThrow(/currency/);
    const t = await tariff(n.org.id, 'T', '1');
    await expect(
      db('tariff_versions').insert({
        id: newId('tarv'),
        tariff_id: t.id,
        version: 2,
        name: 'T',
        currency: 'USD',
        definition: JSON.stringify(fullDefinition('1')),
      }),
    ).rejects.toThrow(/tariff_versions_definition_check/);
    expect(await db('tariff_versions').where({ tariff_id: t.id })).toHaveLength(1);
  });

  it('refuse components together with a definition that prices differently', async () => {
    const n = await network();
    const components = flat('1');
    await expect(
      createTariff(db, n.org.id, {
        name: 'X',
        currency: 'EUR',
        components,
        definition: definitionFromSimpleComponents('EUR', flat('2')),
      }),
    ).rejects.toThrow(/different prices/);
    const same = await createTariff(db, n.org.id, {
      name: 'X',
      currency: 'EUR',
      components,
      definition: definitionFromSimpleComponents('EUR', components),
    });
    expect(same.currentVersion.components).toEqual(components);
  });
});

describe("resolveTariffForSession: the user type's own tariff comes first", () => {
  async function withEmployeeTariff(validFrom?: Date, extra: Partial<TariffDefinition> = {}) {
    const n = await network();
    const location = await tariff(n.org.id, 'location', '1');
    await assignTariff(db, n.org.id, location.id, { scopeType: 'project', scopeId: n.project.id });
    const staff = await createTariff(db, n.org.id, {
      name: 'staff',
      currency: 'EUR',
      definition: fullDefinition('0.1', extra),
      validFrom,
    });
    await updateUserType(db, n.org.id, 'employee', { tariffId: staff.id });
    const resolve = async (userType: string | null, at = new Date()) =>
      (await resolveTariffForSession(db, { chargePointId: n.cpA1.id, userType, at }))?.tariffId;
    return { n, location, staff, resolve };
  }

  it('the user type with a tariff gets it; other, unknown and anonymous drivers get the location tariff', async () => {
    const { location, staff, resolve } = await withEmployeeTariff();
    expect(await resolve('employee')).toBe(staff.id);
    expect(await resolve('public')).toBe(location.id);
    expect(await resolve('no-such-type')).toBe(location.id);
    expect(await resolve(null)).toBe(location.id);
  });

  it('answers the full TariffVersion of the user type tariff', async () => {
    const { n, staff } = await withEmployeeTariff();
    const resolved = await resolveTariffForSession(db, {
      chargePointId: n.cpA2.id,
      userType: 'employee',
      at: new Date(),
    });
    expect(resolved).toStrictEqual({
      tariffId: staff.id,
      versionId: staff.currentVersion.versionId,
      version: 1,
      currency: 'EUR',
      definition: fullDefinition('0.1'),
    });
  });

  it('falls back to the location tariff while the user type tariff has no version in force', async () => {
    const { location, staff, resolve } = await withEmployeeTariff(new Date('2032-01-01T00:00:00Z'));
    expect(await resolve('employee', new Date('2031-12-31T23:59:59Z'))).toBe(location.id);
    expect(await resolve('employee', new Date('2032-01-01T00:00:00Z'))).toBe(staff.id);
  });

  it('falls back to the location tariff outside the user type tariff OCPI validity', async () => {
    const { location, staff, resolve } = await withEmployeeTariff(undefined, {
      start_date_time: '2030-01-01T00:00:00Z',
      end_date_time: '2030-02-01T00:00:00Z',
    });
    expect(await resolve('employee', new Date('2029-12-31T23:59:59Z'))).toBe(location.id);
    expect(await resolve('employee', new Date('2030-01-01T00:00:00Z'))).toBe(staff.id);
    expect(await resolve('employee', new Date('2030-01-31T23:59:59Z'))).toBe(staff.id);
    expect(await resolve('employee', new Date('2030-02-01T00:00:00Z'))).toBe(location.id);
  });

  it('clearing the user type tariff brings back the location tariff', async () => {
    const { n, location, resolve } = await withEmployeeTariff();
    await updateUserType(db, n.org.id, 'employee', { tariffId: null });
    expect(await resolve('employee')).toBe(location.id);
  });

  it('prices with the user type tariff where no location tariff is assigned', async () => {
    const n = await network();
    const staff = await tariff(n.org.id, 'staff', '0');
    await createUserType(db, n.org.id, { name: 'crew', tariffId: staff.id });
    const resolve = (userType: string | null) =>
      resolveTariffForSession(db, { chargePointId: n.cpB.id, userType, at: new Date() });
    expect((await resolve('crew'))?.tariffId).toBe(staff.id);
    expect(await resolve('public')).toBeUndefined();
  });

  it("ignores another organization's user type of the same name", async () => {
    const n = await network();
    const location = await tariff(n.org.id, 'location', '1');
    await assignTariff(db, n.org.id, location.id, { scopeType: 'site', scopeId: n.siteA.id });
    const other = await createOrganization(db, { name: 'Other' });
    const foreign = await tariff(other.id, 'foreign staff', '0');
    await updateUserType(db, other.id, 'employee', { tariffId: foreign.id });
    const resolved = await resolveTariffForSession(db, {
      chargePointId: n.cpA1.id,
      userType: 'employee',
      at: new Date(),
    });
    expect(resolved?.tariffId).toBe(location.id);
  });

  it('the database refuses a user type tariff of another organization', async () => {
    const n = await network();
    const other = await createOrganization(db, { name: 'Other' });
    const foreign = await tariff(other.id, 'foreign', '0');
    await expect(updateUserType(db, n.org.id, 'employee', { tariffId: foreign.id })).rejects.toThrow(
      /user_types_tariff_fkey/,
    );
  });
});

describe('resolveTariffForChargePoint: OCPI validity of the version in force', () => {
  it('answers nothing before start_date_time or from end_date_time on', async () => {
    const n = await network();
    const t = await createTariff(db, n.org.id, {
      name: 'Season',
      currency: 'EUR',
      definition: fullDefinition('0.3', {
        start_date_time: '2030-06-01T00:00:00Z',
        end_date_time: '2030-09-01T00:00:00Z',
      }),
    });
    await assignTariff(db, n.org.id, t.id, { scopeType: 'charge_point', scopeId: n.cpA1.id });
    const at = async (iso: string) =>
      (await resolveTariffForChargePoint(db, n.cpA1.id, new Date(iso)))?.versionId;
    expect(await at('2030-05-31T23:59:59.999Z')).toBeUndefined();
    expect(await at('2030-06-01T00:00:00Z')).toBe(t.currentVersion.versionId);
    expect(await at('2030-08-31T23:59:59.999Z')).toBe(t.currentVersion.versionId);
    expect(await at('2030-09-01T00:00:00Z')).toBeUndefined();
  });
});

describe('migration 002 on a database with simple-form versions', () => {
  it('backfills the definition new simple-form versions get, then keeps versions immutable', async () => {
    const url = tdb.url.replace(/\/[^/]+$/, `/ev_billing_test_backfill_${process.pid}`);
    await dropDatabase(url);
    await ensureDatabase(url);
    const old = createDb(url, { min: 0, max: 2 });
    try {
      const only001: Knex.MigrationSource<string> = {
        getMigrations: async () => ['001_initial'],
        getMigrationName: (name) => name,
        getMigration: async () => initialMigration,
      };
      await old.migrate.latest({ migrationSource: only001 });
      await old('organizations').insert({ id: 'org_1', name: 'Before' });
      await old('tariffs').insert({ id: 'tar_1', organization_id: 'org_1' });
      const versions = [
        {
          id: 'tarv_1',
          currency: 'EUR',
          components: [
            { type: 'flat_fee', price: '1.000000' },
            { type: 'per_kwh', price: '0.350000' },
            { type: 'per_minute', price: '0.050000' },
          ],
        },
        { id: 'tarv_2', currency: 'JPY', components: [{ type: 'per_minute', price: '12.123456' }] },
      ] as const;
      for (const [i, v] of versions.entries()) {
        await old('tariff_versions').insert({
          id: v.id,
          tariff_id: 'tar_1',
          version: i + 1,
          name: 'Old',
          currency: v.currency,
        });
        await old('tariff_components').insert(
          v.components.map((c, position) => ({ tariff_version_id: v.id, position, ...c })),
        );
      }

      await migrateLatest(old);

      const eur = await loadTariffVersion(old, 'tarv_1');
      expect(eur?.components).toEqual([
        { type: 'flat_fee', price: '1' },
        { type: 'per_kwh', price: '0.35' },
        { type: 'per_minute', price: '0.05' },
      ]);
      expect(eur?.definition).toEqual(definitionFromSimpleComponents('EUR', eur!.components!));
      expect(eur?.definition?.elements[0].price_components.map((c) => [c.type, c.price])).toEqual([
        ['FLAT', '1'],
        ['ENERGY', '0.35'],
        ['TIME', '3'],
      ]);
      const jpy = await loadTariffVersion(old, 'tarv_2');
      expect(jpy?.definition).toEqual({
        currency: 'JPY',
        elements: [{ price_components: [{ type: 'TIME', price: '727.40736', vat: null, step_size: 1 }] }],
      });
      await expect(old('tariff_versions').where({ id: 'tarv_1' }).update({ name: 'x' })).rejects.toThrow(
        /immutable/,
      );
      await expect(
        old('tariff_versions').insert({
          id: 'tarv_3',
          tariff_id: 'tar_1',
          version: 3,
          name: 'No definition',
          currency: 'EUR',
        }),
      ).rejects.toThrow(/definition/);
    } finally {
      await old.destroy();
      await dropDatabase(url);
    }
  });
});
