import { expectError, Harness, startHarness, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;
const created: string[] = [];

beforeAll(async () => {
  h = await startHarness('pagination');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  for (let i = 0; i < 25; i++) {
    created.push((await acme.call('POST', '/projects', { body: { name: `P${i}` } })).body.id);
  }
  await globex.call('POST', '/projects', { body: { name: 'Not yours' } });
});
afterAll(() => h.close());

describe('cursor pagination', () => {
  it('walks every object once, in id order, following next_cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=7&starting_after=${cursor}` : '?limit=7';
      const res = await acme.call('GET', `/projects${query}`);
      expect(res.status).toBe(200);
      expect(res.body.object).toBe('list');
      expect(res.body.data.length).toBeLessThanOrEqual(7);
      seen.push(...res.body.data.map((p: { id: string }) => p.id));
      expect(res.body.next_cursor).toBe(res.body.has_more ? res.body.data.at(-1).id : null);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual([...created].sort());
    expect(seen).toHaveLength(25);
  });

  it('defaults to 20 per page', async () => {
    const res = await acme.call('GET', '/projects');
    expect(res.body.data).toHaveLength(20);
    expect(res.body.has_more).toBe(true);
  });

  it('answers has_more false and no cursor on the last page', async () => {
    const res = await acme.call('GET', `/projects?limit=100`);
    expect(res.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(res.body.data).toHaveLength(25);
  });

  it('paginates user types by name', async () => {
    const first = await acme.call('GET', '/user-types?limit=2');
    expect(first.body.data.map((t: { name: string }) => t.name)).toEqual(['employee', 'fleet']);
    expect(first.body.next_cursor).toBe('fleet');
    const second = await acme.call('GET', '/user-types?limit=10&starting_after=fleet');
    expect(second.body.data.map((t: { name: string }) => t.name)).toEqual(['member', 'public', 'visitor']);
    expect(second.body.has_more).toBe(false);
  });

  it.each(['0', '101', 'abc', '-1', '2.5', ''])('refuses limit=%s with 400 naming limit', async (limit) => {
    expectError(await acme.call('GET', `/projects?limit=${limit}`), 400, 'limit', 'parameter_invalid');
  });

  it('refuses a repeated parameter', async () => {
    expectError(await acme.call('GET', '/projects?limit=1&limit=2'), 400, 'limit', 'parameter_invalid');
  });
});
