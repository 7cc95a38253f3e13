import { createApp } from '../../api/app';
import knexFactory from 'knex';
import {
  captureLogger,
  expectError,
  Harness,
  listen,
  request,
  startHarness,
  tableCounts,
  Tenant,
} from './helpers';

let h: Harness;
let acme: Tenant;

beforeAll(async () => {
  h = await startHarness('errors');
  acme = await h.tenant('Acme');
});
afterAll(() => h.close());

describe('request-level errors answer the error shape and write nothing', () => {
  let before: Record<string, number>;
  beforeEach(async () => {
    before = await tableCounts(h.db);
  });
  afterEach(async () => {
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it('malformed JSON -> 400 json_invalid', async () => {
    expectError(
      await acme.call('POST', '/projects', { rawBody: '{"name": "x",' }),
      400,
      'body',
      'json_invalid',
    );
  });

  it('a body over 100kb -> 413 body_too_large', async () => {
    const res = await acme.call('POST', '/projects', { body: { name: 'x'.repeat(150_000) } });
    expectError(res, 413, 'body', 'body_too_large');
  });

  it('a body that is not JSON -> 415', async () => {
    const res = await acme.call('POST', '/projects', {
      rawBody: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(res, 415, null, 'unsupported_media_type');
  });

  it.each([
    ['an array', '[{"name":"x"}]'],
    ['a string', '"x"'],
    ['null', 'null'],
  ])('a JSON body that is %s -> 400', async (_label, raw) => {
    const res = await acme.call('POST', '/projects', { rawBody: raw });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
  });

  it('no body at all names the first missing field', async () => {
    expectError(await acme.call('POST', '/projects'), 400, 'name', 'parameter_missing');
  });

  it('an unknown field -> 400 parameter_unknown naming it', async () => {
    const res = await acme.call('POST', '/projects', { body: { name: 'x', colour: 'red' } });
    expectError(res, 400, 'colour', 'parameter_unknown');
  });

  it('a malformed percent-encoding in the path -> 400', async () => {
    const res = await acme.call('GET', '/tariffs/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: null });
  });
});

describe('unexpected failures', () => {
  it('answer 500 api_error without stack or internals, and log the error', async () => {
    const { log, entries } = captureLogger();
    // A database that does not exist: every query fails inside the request.
    const quiet = () => undefined;
    const broken = knexFactory({
      client: 'pg',
      connection: 'postgres://postgres@127.0.0.1:5432/ev_billing_no_such_database',
      pool: { min: 0, max: 1 },
      log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet },
    });
    const { url, server } = await listen(createApp({ db: broken, runningCost: async () => undefined, log }));
    try {
      const res = await request(`${url}/api/v1/billing`, 'GET', '/projects', { key: acme.key });
      expectError(res, 500, null, 'internal_error');
      expect(res.body.error.type).toBe('api_error');
      const text = JSON.stringify(res.body);
      expect(text).not.toMatch(/stack|at .*\.ts|ev_billing_no_such_database|postgres/i);
      const logged = entries.find((e) => e.level === 'error');
      expect(logged?.fields.stack).toEqual(expect.stringContaining('Error'));
    } finally {
      server.close();
      await broken.destroy();
    }
  });
});
