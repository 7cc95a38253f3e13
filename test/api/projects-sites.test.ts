import { createSiteFor, expectError, Harness, startHarness, tableCounts, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;

beforeAll(async () => {
  h = await startHarness('sites');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
});
afterAll(() => h.close());

describe('projects and sites: create and read', () => {
  it('creates and reads a project', async () => {
    const res = await acme.call('POST', '/projects', { body: { name: '  Garages  ' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      object: 'project',
      id: expect.stringMatching(/^prj_/),
      name: 'Garages',
      created_at: expect.any(String),
    });
    expect((await acme.call('GET', `/projects/${res.body.id}`)).body).toEqual(res.body);
  });

  it('creates a site in a project, with the time zone in canonical spelling', async () => {
    const project = (await acme.call('POST', '/projects', { body: { name: 'P' } })).body;
    const res = await acme.call('POST', '/sites', {
      body: { project_id: project.id, name: 'Depot', time_zone: 'europe/berlin' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      object: 'site',
      id: expect.stringMatching(/^site_/),
      project_id: project.id,
      name: 'Depot',
      time_zone: 'Europe/Berlin',
      created_at: expect.any(String),
    });
    expect((await acme.call('GET', `/sites/${res.body.id}`)).body).toEqual(res.body);
  });

  it('filters sites by project', async () => {
    const a = await createSiteFor(acme);
    await createSiteFor(acme);
    const res = await acme.call('GET', `/sites?project_id=${a.project.id}`);
    expect(res.body.data.map((s: { id: string }) => s.id)).toEqual([a.site.id]);
  });
});

describe('projects and sites: bad input', () => {
  let before: Record<string, number>;
  let projectId: string;
  let foreignProjectId: string;
  beforeAll(async () => {
    projectId = (await acme.call('POST', '/projects', { body: { name: 'P' } })).body.id;
    foreignProjectId = (await globex.call('POST', '/projects', { body: { name: 'G' } })).body.id;
  });
  beforeEach(async () => {
    before = await tableCounts(h.db);
  });
  afterEach(async () => {
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it.each<[string, unknown, string]>([
    ['missing name', {}, 'name'],
    ['empty name', { name: '' }, 'name'],
    ['name as an array', { name: ['a'] }, 'name'],
    ['name with a newline', { name: 'a\nb' }, 'name'],
  ])('POST /projects with %s -> 400', async (_label, body, param) => {
    expectError(await acme.call('POST', '/projects', { body }), 400, param);
  });

  it.each<[string, () => unknown, number, string]>([
    ['missing project_id', () => ({ name: 'S', time_zone: 'UTC' }), 400, 'project_id'],
    ['project_id as a number', () => ({ project_id: 5, name: 'S', time_zone: 'UTC' }), 400, 'project_id'],
    ['unknown project', () => ({ project_id: 'prj_nope', name: 'S', time_zone: 'UTC' }), 404, 'project_id'],
    [
      "another organization's project",
      () => ({ project_id: foreignProjectId, name: 'S', time_zone: 'UTC' }),
      404,
      'project_id',
    ],
    ['missing name', () => ({ project_id: projectId, time_zone: 'UTC' }), 400, 'name'],
    ['missing time_zone', () => ({ project_id: projectId, name: 'S' }), 400, 'time_zone'],
    [
      'unknown time zone',
      () => ({ project_id: projectId, name: 'S', time_zone: 'Mars/Olympus_Mons' }),
      400,
      'time_zone',
    ],
    [
      'an offset, not a zone',
      () => ({ project_id: projectId, name: 'S', time_zone: '+01:00' }),
      400,
      'time_zone',
    ],
    ['time_zone as a number', () => ({ project_id: projectId, name: 'S', time_zone: 1 }), 400, 'time_zone'],
    ['unknown field', () => ({ project_id: projectId, name: 'S', time_zone: 'UTC', lat: 52 }), 400, 'lat'],
  ])('POST /sites with %s', async (_label, body, status, param) => {
    expectError(await acme.call('POST', '/sites', { body: body() }), status, param);
  });

  it('POST /sites with malformed JSON -> 400', async () => {
    expectError(
      await acme.call('POST', '/sites', { rawBody: "{'project_id': 1}" }),
      400,
      'body',
      'json_invalid',
    );
  });

  it('GET of unknown ids -> 404', async () => {
    expectError(await acme.call('GET', '/projects/prj_nope'), 404, null, 'resource_missing');
    expectError(await acme.call('GET', '/sites/site_nope'), 404, null, 'resource_missing');
  });
});
