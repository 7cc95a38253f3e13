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
    // The simple form is stored with the equivalent definition pricing reads.
    expect(res.body.definition).toEqual({
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'FLAT', price: '1.5', vat: null, step_size: 1 },
            { type: 'ENERGY', price: '0.35', vat: null, step_size: 1 },
          ],
        },
      ],
    });
    expect(res.body.current_version.definition).toEqual(res.body.definition);
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
    await expect(
      h
        .db('tariff_versions')
        .where({ id: versionId })
        .update({ definition: '{"currency":"EUR","elements":[]}' }),
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

// An OCPI-shaped tariff: energy with VAT, a cheaper night element, parking after a grace period.
const FULL_BODY = {
  name: 'Night and day',
  currency: 'EUR',
  elements: [
    {
      price_components: [{ type: 'ENERGY', price: '0.250', vat: 21, step_size: 1000 }],
      restrictions: { start_time: '22:00', end_time: '06:00' },
    },
    {
      price_components: [
        { type: 'ENERGY', price: 0.35, vat: '21' },
        { type: 'FLAT', price: '0.50' },
      ],
    },
    {
      price_components: [{ type: 'PARKING_TIME', price: '6.00', step_size: 60 }],
      restrictions: { day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] },
    },
  ],
  min_price: { excl_vat: '1.00', incl_vat: '1.21' },
  max_price: { excl_vat: 50 },
  start_date_time: '2025-01-01T00:00:00Z',
  end_date_time: '2035-01-01T00:00:00Z',
  idle: { grace_period_seconds: 900, max_cost: '20' },
};

const FULL_DEFINITION = {
  currency: 'EUR',
  elements: [
    {
      price_components: [{ type: 'ENERGY', price: '0.25', vat: '21', step_size: 1000 }],
      restrictions: { start_time: '22:00', end_time: '06:00' },
    },
    {
      price_components: [
        { type: 'ENERGY', price: '0.35', vat: '21', step_size: 1 },
        { type: 'FLAT', price: '0.5', vat: null, step_size: 1 },
      ],
    },
    {
      price_components: [{ type: 'PARKING_TIME', price: '6', vat: null, step_size: 60 }],
      restrictions: { day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] },
    },
  ],
  min_price: { excl_vat: '1', incl_vat: '1.21' },
  max_price: { excl_vat: '50' },
  start_date_time: '2025-01-01T00:00:00Z',
  end_date_time: '2035-01-01T00:00:00Z',
  idle: { grace_period_seconds: 900, max_cost: '20' },
};

describe('tariffs: the full (OCPI-shaped) form', () => {
  it('round trips through the API: stored normalized, read back the same, no components', async () => {
    const res = await acme.call('POST', '/tariffs', { body: FULL_BODY });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'tariff',
      name: 'Night and day',
      currency: 'EUR',
      components: null,
      definition: FULL_DEFINITION,
      current_version: { version: 1, components: null, definition: FULL_DEFINITION },
    });
    expect((await acme.call('GET', `/tariffs/${res.body.id}`)).body).toEqual(res.body);
    const row = await h.db('tariff_versions').where({ id: res.body.current_version.id }).first();
    expect(row.definition).toEqual(FULL_DEFINITION);
    expect(await h.db('tariff_components').where({ tariff_version_id: row.id })).toHaveLength(0);
  });

  it('a full-form version may follow a simple one and the other way round; currency carries over', async () => {
    const tariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const { name: _name, currency: _currency, ...prices } = FULL_BODY;
    const v2 = await acme.call('POST', `/tariffs/${tariff.id}/versions`, { body: prices });
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({
      object: 'tariff_version',
      version: 2,
      name: TARIFF_BODY.name,
      currency: 'EUR',
      components: null,
      definition: FULL_DEFINITION,
    });
    const v3 = await acme.call('POST', `/tariffs/${tariff.id}/versions`, {
      body: { currency: 'USD', components: [{ type: 'per_minute', price: '0.1' }] },
    });
    expect(v3.body).toMatchObject({
      version: 3,
      currency: 'USD',
      components: [{ type: 'per_minute', price: '0.1' }],
      definition: {
        currency: 'USD',
        elements: [{ price_components: [{ type: 'TIME', price: '6', vat: null, step_size: 1 }] }],
      },
    });
    const v4 = await acme.call('POST', `/tariffs/${tariff.id}/versions`, {
      body: { currency: 'GBP', elements: [{ price_components: [{ type: 'FLAT', price: '2' }] }] },
    });
    expect(v4.body).toMatchObject({ version: 4, currency: 'GBP', definition: { currency: 'GBP' } });
    const read = (await acme.call('GET', `/tariffs/${tariff.id}`)).body;
    expect(read.versions.map((v: { components: unknown }) => v.components === null)).toEqual([
      false,
      true,
      false,
      true,
    ]);
  });
});

describe('tariffs: the full form refused naming the field, and nothing is written', () => {
  let before: Record<string, number>;
  let tariffId: string;
  beforeAll(async () => {
    tariffId = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body.id;
  });
  beforeEach(async () => {
    before = await tableCounts(h.db);
  });
  afterEach(async () => {
    expect(await tableCounts(h.db)).toEqual(before);
  });

  const element = (component: Record<string, unknown>, restrictions?: Record<string, unknown>) => ({
    ...FULL_BODY,
    elements: [{ price_components: [component], ...(restrictions && { restrictions }) }],
  });
  const energy = { type: 'ENERGY', price: '0.3' };
  it.each<[string, unknown, string, string]>([
    [
      'a negative element price',
      element({ type: 'ENERGY', price: '-0.3' }),
      'elements[0].price_components[0].price',
      'parameter_invalid',
    ],
    [
      'a price with 7 decimals',
      element({ type: 'ENERGY', price: '0.1234567' }),
      'elements[0].price_components[0].price',
      'parameter_invalid',
    ],
    [
      'an unknown dimension',
      element({ type: 'PER_KWH', price: '1' }),
      'elements[0].price_components[0].type',
      'parameter_invalid',
    ],
    [
      'a zero step_size',
      element({ ...energy, step_size: 0 }),
      'elements[0].price_components[0].step_size',
      'parameter_invalid',
    ],
    [
      'a VAT over 100',
      element({ ...energy, vat: '120' }),
      'elements[0].price_components[0].vat',
      'parameter_invalid',
    ],
    [
      'an unknown component field',
      element({ ...energy, tax: '21' }),
      'elements[0].price_components[0].tax',
      'parameter_unknown',
    ],
    [
      'a bad start_time',
      element(energy, { start_time: '25:00' }),
      'elements[0].restrictions.start_time',
      'parameter_invalid',
    ],
    [
      'a start_time without minutes',
      element(energy, { start_time: '7' }),
      'elements[0].restrictions.start_time',
      'parameter_invalid',
    ],
    [
      'an unknown weekday',
      element(energy, { day_of_week: ['FUNDAY'] }),
      'elements[0].restrictions.day_of_week[0]',
      'parameter_invalid',
    ],
    [
      'an unknown restriction',
      element(energy, { on_holidays: true }),
      'elements[0].restrictions.on_holidays',
      'parameter_unknown',
    ],
    [
      'min_price above max_price',
      { ...FULL_BODY, min_price: { excl_vat: '60' } },
      'max_price.excl_vat',
      'parameter_invalid',
    ],
    [
      'incl_vat below excl_vat',
      { ...FULL_BODY, min_price: { excl_vat: '2', incl_vat: '1' } },
      'min_price.incl_vat',
      'parameter_invalid',
    ],
    [
      'a bad start_date_time',
      { ...FULL_BODY, start_date_time: 'next year' },
      'start_date_time',
      'parameter_invalid',
    ],
    [
      'end_date_time before start',
      { ...FULL_BODY, end_date_time: '2024-01-01T00:00:00Z' },
      'end_date_time',
      'parameter_invalid',
    ],
    [
      'a negative idle grace period',
      { ...FULL_BODY, idle: { grace_period_seconds: -1 } },
      'idle.grace_period_seconds',
      'parameter_invalid',
    ],
    [
      'an unknown idle field',
      { ...FULL_BODY, idle: { grace_period_seconds: 1, rate: 1 } },
      'idle.rate',
      'parameter_unknown',
    ],
    ['no elements', { ...FULL_BODY, elements: [] }, 'elements', 'parameter_invalid'],
    [
      'elements not an array',
      { ...FULL_BODY, elements: { price_components: [] } },
      'elements',
      'parameter_invalid',
    ],
    [
      'an element without components',
      { ...FULL_BODY, elements: [{}] },
      'elements[0].price_components',
      'parameter_invalid',
    ],
    ['an unknown top-level field', { ...FULL_BODY, vat: 21 }, 'vat', 'parameter_unknown'],
    [
      'full-form fields without elements',
      { name: 'x', currency: 'EUR', idle: { grace_period_seconds: 60 } },
      'elements',
      'parameter_invalid',
    ],
    [
      'components with elements',
      { ...FULL_BODY, components: TARIFF_BODY.components },
      'elements',
      'parameter_invalid',
    ],
    [
      'components with min_price',
      { ...TARIFF_BODY, min_price: { excl_vat: '1' } },
      'min_price',
      'parameter_invalid',
    ],
    ['a bad currency', { ...FULL_BODY, currency: 'EURO' }, 'currency', 'parameter_invalid'],
    ['neither components nor elements', { name: 'x', currency: 'EUR' }, 'components', 'parameter_missing'],
  ])('POST /tariffs with %s', async (_label, body, param, code) => {
    expectError(await acme.call('POST', '/tariffs', { body }), 400, param, code);
  });

  it.each<[string, unknown, string]>([
    [
      'a bad element price',
      { elements: [{ price_components: [{ type: 'TIME', price: 'free' }] }] },
      'elements[0].price_components[0].price',
    ],
    [
      'a bad end_time',
      { elements: [{ price_components: [energy], restrictions: { end_time: '24:00' } }] },
      'elements[0].restrictions.end_time',
    ],
    ['a bad currency', { currency: 'eur', elements: FULL_BODY.elements }, 'currency'],
  ])('POST /tariffs/:id/versions with %s', async (_label, body, param) => {
    expectError(await acme.call('POST', `/tariffs/${tariffId}/versions`, { body }), 400, param);
  });
});

describe('user types: a tariff of their own', () => {
  it('is set at creation, changed and cleared, and shown', async () => {
    const tariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body;
    const other = (await acme.call('POST', '/tariffs', { body: FULL_BODY })).body;
    const created = await acme.call('POST', '/user-types', { body: { name: 'staff', tariff_id: tariff.id } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      object: 'user_type',
      id: 'staff',
      name: 'staff',
      description: null,
      tariff_id: tariff.id,
    });
    const changed = await acme.call('PATCH', '/user-types/staff', {
      body: { tariff_id: other.id, description: 'Our people' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ tariff_id: other.id, description: 'Our people' });
    const onlyDescription = await acme.call('PATCH', '/user-types/staff', { body: { description: null } });
    expect(onlyDescription.body).toMatchObject({ tariff_id: other.id, description: null });
    const cleared = await acme.call('PATCH', '/user-types/staff', { body: { tariff_id: null } });
    expect(cleared.body.tariff_id).toBeNull();
    expect((await acme.call('GET', '/user-types/staff')).body).toEqual(cleared.body);
    // The conventional user types of a new organization have none.
    expect((await acme.call('GET', '/user-types/employee')).body.tariff_id).toBeNull();
  });

  describe('refused, naming the field, writing nothing', () => {
    let before: Record<string, number>;
    let acmeTariff: string;
    let globexTariff: string;
    beforeAll(async () => {
      acmeTariff = (await acme.call('POST', '/tariffs', { body: TARIFF_BODY })).body.id;
      globexTariff = (await globex.call('POST', '/tariffs', { body: TARIFF_BODY })).body.id;
      await acme.call('POST', '/user-types', { body: { name: 'guests', tariff_id: acmeTariff } });
    });
    beforeEach(async () => {
      before = await tableCounts(h.db);
    });
    afterEach(async () => {
      expect(await tableCounts(h.db)).toEqual(before);
      expect((await acme.call('GET', '/user-types/guests')).body.tariff_id).toBe(acmeTariff);
    });

    it.each<[string, string, string, () => unknown, number, string, string]>([
      [
        "another organization's tariff",
        'POST',
        '/user-types',
        () => ({ name: 'x', tariff_id: globexTariff }),
        404,
        'tariff_id',
        'resource_missing',
      ],
      [
        'an unknown tariff',
        'POST',
        '/user-types',
        () => ({ name: 'x', tariff_id: 'tar_nope' }),
        404,
        'tariff_id',
        'resource_missing',
      ],
      [
        'a numeric tariff id',
        'POST',
        '/user-types',
        () => ({ name: 'x', tariff_id: 7 }),
        400,
        'tariff_id',
        'parameter_invalid',
      ],
      [
        "PATCH to another organization's tariff",
        'PATCH',
        '/user-types/guests',
        () => ({ tariff_id: globexTariff }),
        404,
        'tariff_id',
        'resource_missing',
      ],
      [
        'PATCH of the name',
        'PATCH',
        '/user-types/guests',
        () => ({ name: 'visitors' }),
        400,
        'name',
        'parameter_unknown',
      ],
    ])('%s', async (_label, method, path, body, status, param, code) => {
      expectError(await acme.call(method, path, { body: body() }), status, param, code);
    });

    it('PATCH of an unknown or foreign user type -> 404', async () => {
      const body = { tariff_id: acmeTariff };
      expectError(await acme.call('PATCH', '/user-types/nope', { body }), 404, null, 'resource_missing');
      expectError(
        await globex.call('PATCH', '/user-types/guests', { body: { description: 'x' } }),
        404,
        null,
        'resource_missing',
      );
      expectError(
        await globex.call('PATCH', '/user-types/guests', { body }),
        404,
        'tariff_id',
        'resource_missing',
      );
    });
  });
});
