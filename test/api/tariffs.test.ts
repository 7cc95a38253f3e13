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

beforeAll(async () => {
  h = await startHarness('tariffs');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
});
afterAll(() => h.close());

const inAMinute = () => new Date(Date.now() + 120_000).toISOString();

describe('tariffs: create and read', () => {
  it('creates a tariff with version 1 and answers prices as decimal strings', async () => {
    const res = await acme.call('POST', '/tariffs', { body: TARIFF_BODY });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'tariff',
      id: expect.stringMatching(/^tar_/),
      name: 'Standard Public Rate',
      currency: 'EUR',
      components: [
        { type: 'flat_fee', price: '1.5' },
        { type: 'per_kwh', price: '0.35' },
      ],
      current_version: { object: 'tariff_version', version: 1, id: expect.stringMatching(/^tarv_/) },
    });
    expect(res.body.versions).toHaveLength(1);
    // Version 1 is in force from the start, whatever a charge point's clock says.
    expect(res.body.current_version.valid_from).toBe('1970-01-01T00:00:00.000Z');

    const read = await acme.call('GET', `/tariffs/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
    const list = await acme.call('GET', '/tariffs');
    expect(list.body.data.map((t: { id: string }) => t.id)).toContain(res.body.id);
  });

  it('keeps up to 6 decimals of a price exactly', async () => {
    const res = await acme.call('POST', '/tariffs', {
      body: { name: 'Precise', currency: 'JPY', components: [{ type: 'per_minute', price: '12.123456' }] },
    });
    expect(res.body.components).toEqual([{ type: 'per_minute', price: '12.123456' }]);
    const row = await h
      .db('tariff_components')
      .where({ tariff_version_id: res.body.current_version.id })
      .first();
    expect(row.price).toBe('12.123456');
  });
});

describe('tariffs: versions', () => {
  it('an edit is a new version; the old version stays unchanged', async () => {
    const tariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const v1 = tariff.current_version;
    const res = await acme.call('POST', `/tariffs/${tariff.id}/versions`, {
      body: { components: [{ type: 'per_kwh', price: '0.42' }] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'tariff_version',
      tariff_id: tariff.id,
      version: 2,
      name: TARIFF_BODY.name,
      currency: 'EUR',
      components: [{ type: 'per_kwh', price: '0.42' }],
    });
    const read = (await acme.call('GET', `/tariffs/${tariff.id}`)).body;
    expect(read.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(read.versions[0]).toEqual(v1);
    expect(read.current_version.id).toBe(res.body.id);
    expect(read.components).toEqual([{ type: 'per_kwh', price: '0.42' }]);
  });

  it('a version scheduled for later is listed but not current yet', async () => {
    const tariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const later = inAMinute();
    const res = await acme.call('POST', `/tariffs/${tariff.id}/versions`, {
      body: {
        name: 'Winter',
        currency: 'EUR',
        components: [{ type: 'flat_fee', price: 3 }],
        valid_from: later,
      },
    });
    expect(res.body.valid_from).toBe(later);
    const read = (await acme.call('GET', `/tariffs/${tariff.id}`)).body;
    expect(read.current_version.version).toBe(1);
    expect(read.versions).toHaveLength(2);
  });

  it('the database refuses to change or delete a version or its components', async () => {
    const tariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const versionId = tariff.current_version.id;
    await expect(
      h.db('tariff_versions').where({ id: versionId }).update({ name: 'changed' }),
    ).rejects.toThrow(/immutable/);
    await expect(
      h.db('tariff_components').where({ tariff_version_id: versionId }).update({ price: '0' }),
    ).rejects.toThrow(/immutable/);
    await expect(h.db('tariff_versions').where({ id: versionId }).delete()).rejects.toThrow(/immutable/);
    const row = await h.db('tariff_versions').where({ id: versionId }).first();
    expect(row.name).toBe(TARIFF_BODY.name);
  });
});

describe('tariffs: assignments', () => {
  it('assigns to a scope of the organization, and assigning again replaces it', async () => {
    const { project, site } = await createSiteFor(acme);
    const t1 = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const t2 = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const first = await acme.call('POST', `/tariffs/${t1.id}/assignments`, {
      body: { scope_type: 'site', scope_id: site.id },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      object: 'tariff_assignment',
      tariff_id: t1.id,
      scope_type: 'site',
      scope_id: site.id,
    });
    const again = await acme.call('POST', `/tariffs/${t2.id}/assignments`, {
      body: { scope_type: 'site', scope_id: site.id },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, tariff_id: t2.id });
    const rows = await h.db('tariff_assignments').where({ scope_id: site.id });
    expect(rows).toHaveLength(1);
    expect(rows[0].tariff_id).toBe(t2.id);
    const onProject = await acme.call('POST', `/tariffs/${t1.id}/assignments`, {
      body: { scope_type: 'project', scope_id: project.id },
    });
    expect(onProject.status).toBe(201);
  });
});

describe('tariffs: bad input is refused naming the field, and nothing is written', () => {
  let before: Record<string, number>;
  let tariffId: string;
  let siteId: string;
  let foreignSiteId: string;
  beforeAll(async () => {
    tariffId = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body.id;
    siteId = (await createSiteFor(acme)).site.id;
    foreignSiteId = (await createSiteFor(globex)).site.id;
  });
  beforeEach(async () => {
    before = await tableCounts(h.db);
  });
  afterEach(async () => {
    expect(await tableCounts(h.db)).toEqual(before);
  });

  const comps = (...c: unknown[]) => ({ ...TARIFF_BODY, components: c });
  it.each<[string, unknown, string, string]>([
    ['currency EURO', { ...TARIFF_BODY, currency: 'EURO' }, 'currency', 'parameter_invalid'],
    ['lower-case currency', { ...TARIFF_BODY, currency: 'eur' }, 'currency', 'parameter_invalid'],
    ['currency as a number', { ...TARIFF_BODY, currency: 978 }, 'currency', 'parameter_invalid'],
    ['missing currency', { name: 'x', components: TARIFF_BODY.components }, 'currency', 'parameter_missing'],
    ['missing name', { currency: 'EUR', components: TARIFF_BODY.components }, 'name', 'parameter_missing'],
    ['blank name', { ...TARIFF_BODY, name: '   ' }, 'name', 'parameter_invalid'],
    ['name as a number', { ...TARIFF_BODY, name: 42 }, 'name', 'parameter_invalid'],
    ['name with a NUL', { ...TARIFF_BODY, name: 'a\u0000b' }, 'name', 'parameter_invalid'],
    ['name too long', { ...TARIFF_BODY, name: 'n'.repeat(201) }, 'name', 'parameter_invalid'],
    ['missing components', { name: 'x', currency: 'EUR' }, 'components', 'parameter_missing'],
    ['empty components', comps(), 'components', 'parameter_invalid'],
    [
      'components not an array',
      { ...TARIFF_BODY, components: { type: 'per_kwh' } },
      'components',
      'parameter_invalid',
    ],
    [
      'negative price',
      comps({ type: 'per_kwh', price: '-0.35' }),
      'components[0].price',
      'parameter_invalid',
    ],
    [
      'negative number price',
      comps({ type: 'per_kwh', price: -1 }),
      'components[0].price',
      'parameter_invalid',
    ],
    [
      'price as an object',
      comps({ type: 'per_kwh', price: { v: 1 } }),
      'components[0].price',
      'parameter_invalid',
    ],
    ['price missing', comps({ type: 'per_kwh' }), 'components[0].price', 'parameter_invalid'],
    [
      'price with 7 decimals',
      comps({ type: 'per_kwh', price: '0.1234567' }),
      'components[0].price',
      'parameter_invalid',
    ],
    [
      'price too large',
      comps({ type: 'per_kwh', price: '1234567890123' }),
      'components[0].price',
      'parameter_invalid',
    ],
    [
      'price in exponent form',
      comps({ type: 'per_kwh', price: '1e3' }),
      'components[0].price',
      'parameter_invalid',
    ],
    [
      'unknown component type',
      comps({ type: 'per_hour', price: '1' }),
      'components[0].type',
      'parameter_invalid',
    ],
    [
      'a type twice',
      comps({ type: 'per_kwh', price: '1' }, { type: 'per_kwh', price: '2' }),
      'components[1].type',
      'parameter_invalid',
    ],
    ['component not an object', comps('per_kwh'), 'components[0]', 'parameter_invalid'],
    [
      'unknown component field',
      comps({ type: 'per_kwh', price: '1', tax: '0.19' }),
      'components[0].tax',
      'parameter_unknown',
    ],
    ['unknown field', { ...TARIFF_BODY, tax_rate: 19 }, 'tax_rate', 'parameter_unknown'],
    ['valid_from not a date', { ...TARIFF_BODY, valid_from: 'tomorrow' }, 'valid_from', 'parameter_invalid'],
    [
      'valid_from without zone',
      { ...TARIFF_BODY, valid_from: '2030-01-01T00:00:00' },
      'valid_from',
      'parameter_invalid',
    ],
    [
      'valid_from in the past',
      { ...TARIFF_BODY, valid_from: '2020-01-01T00:00:00Z' },
      'valid_from',
      'parameter_invalid',
    ],
  ])('POST /tariffs with %s', async (_label, body, param, code) => {
    expectError(await acme.call('POST', '/tariffs', { body }), 400, param, code);
  });

  it('POST /tariffs with malformed JSON', async () => {
    expectError(
      await acme.call('POST', '/tariffs', { rawBody: '{"name":"x","currency":"EUR",' }),
      400,
      'body',
    );
  });

  it.each<[string, unknown, string]>([
    ['bad currency', { currency: 'EURO', components: TARIFF_BODY.components }, 'currency'],
    ['missing components', { name: 'v2' }, 'components'],
    ['negative price', { components: [{ type: 'flat_fee', price: '-1' }] }, 'components[0].price'],
    ['unknown type', { components: [{ type: 'idle', price: '1' }] }, 'components[0].type'],
    [
      'past valid_from',
      { components: TARIFF_BODY.components, valid_from: '2001-01-01T00:00:00Z' },
      'valid_from',
    ],
  ])('POST /tariffs/:id/versions with %s', async (_label, body, param) => {
    expectError(await acme.call('POST', `/tariffs/${tariffId}/versions`, { body }), 400, param);
  });

  it('POST /tariffs/:id/versions on an unknown or foreign tariff -> 404', async () => {
    const body = { components: TARIFF_BODY.components };
    expectError(
      await acme.call('POST', '/tariffs/tar_nope/versions', { body }),
      404,
      null,
      'resource_missing',
    );
    expectError(
      await globex.call('POST', `/tariffs/${tariffId}/versions`, { body }),
      404,
      null,
      'resource_missing',
    );
  });

  it.each<[string, () => unknown, number, string]>([
    ['unknown scope_type', () => ({ scope_type: 'region', scope_id: siteId }), 400, 'scope_type'],
    ['missing scope_id', () => ({ scope_type: 'site' }), 400, 'scope_id'],
    ['scope_id as a number', () => ({ scope_type: 'site', scope_id: 7 }), 400, 'scope_id'],
    ['unknown site', () => ({ scope_type: 'site', scope_id: 'site_nope' }), 404, 'scope_id'],
    ["another organization's site", () => ({ scope_type: 'site', scope_id: foreignSiteId }), 404, 'scope_id'],
    ['a site id given as a project', () => ({ scope_type: 'project', scope_id: siteId }), 404, 'scope_id'],
  ])('POST /tariffs/:id/assignments with %s', async (_label, body, status, param) => {
    expectError(await acme.call('POST', `/tariffs/${tariffId}/assignments`, { body: body() }), status, param);
  });

  it('GET of an unknown tariff -> 404', async () => {
    expectError(await acme.call('GET', '/tariffs/tar_nope'), 404, null, 'resource_missing');
  });
});
