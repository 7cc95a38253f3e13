import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Knex } from 'knex';
import { createApp } from '../../api/app';
import type { AppDeps } from '../../api/deps';
import { createApiKey, createOrganization, Organization } from '../../db/repositories/organizations';
import type { RunningCost } from '../../workflows/charging-session/messages';
import { createTestDatabase, TestDatabase } from '../support/database';
import { captureLogger, LogEntry } from '../support/capture-logger';

// Response bodies are asserted field by field; a typed client would only restate the serializers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export { captureLogger };
export type { LogEntry };

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  /** Sent as is, for malformed bodies. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Json;
}

export interface Tenant {
  org: Organization;
  key: string;
  call(method: string, path: string, options?: Omit<CallOptions, 'key'>): Promise<ApiResponse>;
}

export interface Harness {
  db: Knex;
  baseUrl: string;
  logs: LogEntry[];
  /** Running costs the stubbed workflow query answers, by workflow id. */
  runningCosts: Map<string, RunningCost>;
  runningCost: jest.Mock<Promise<RunningCost | undefined>, [string]>;
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>;
  tenant(name: string): Promise<Tenant>;
  close(): Promise<void>;
}

export async function listen(app: ReturnType<typeof createApp>): Promise<{ url: string; server: Server }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

export async function request(baseUrl: string, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export async function startHarness(label: string, overrides: Partial<AppDeps> = {}): Promise<Harness> {
  const tdb: TestDatabase = await createTestDatabase(`api_${label}`);
  const { log, entries } = captureLogger();
  const runningCosts = new Map<string, RunningCost>();
  const runningCost = jest.fn(async (workflowId: string) => runningCosts.get(workflowId));
  const app = createApp({ db: tdb.db, runningCost, log, ...overrides });
  const { url, server } = await listen(app);
  const baseUrl = `${url}/api/v1/billing`;
  const call = (method: string, path: string, options?: CallOptions) =>
    request(baseUrl, method, path, options);
  return {
    db: tdb.db,
    baseUrl,
    logs: entries,
    runningCosts,
    runningCost,
    call,
    async tenant(name: string) {
      const org = await createOrganization(tdb.db, { name });
      const { secret } = await createApiKey(tdb.db, org.id, 'test');
      return {
        org,
        key: secret,
        call: (method, path, options) => call(method, path, { ...options, key: secret }),
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tdb.drop();
    },
  };
}

/** Row counts of every table, to prove a refused request wrote nothing anywhere. */
export async function tableCounts(db: Knex): Promise<Record<string, number>> {
  const tables: Array<{ table_name: string }> = await db('information_schema.tables')
    .where({ table_schema: 'public', table_type: 'BASE TABLE' })
    .whereNot('table_name', 'like', 'knex_%')
    .orderBy('table_name')
    .select('table_name');
  const counts: Record<string, number> = {};
  for (const { table_name } of tables) {
    const [{ n }] = await db(table_name).count<{ n: number }[]>('* as n');
    counts[table_name] = Number(n);
  }
  return counts;
}

/** The error shape every failure answers with. */
export function expectError(res: ApiResponse, status: number, param: string | null, code?: string): void {
  expect({ status: res.status, param: res.body?.error?.param }).toEqual({ status, param });
  expect(res.body).toEqual({
    error: {
      type: expect.stringMatching(
        /^(invalid_request_error|authentication_error|permission_error|api_error)$/,
      ),
      code: code ?? expect.any(String),
      message: expect.any(String),
      param,
    },
  });
}

/** A project and a site through the API. */
export async function createSiteFor(tenant: Tenant, timeZone = 'Europe/Berlin') {
  const project = (await tenant.call('POST', '/projects', { body: { name: 'Garages' } })).body;
  const site = (
    await tenant.call('POST', '/sites', {
      body: { project_id: project.id, name: 'Main Street', time_zone: timeZone },
    })
  ).body;
  return { project, site };
}

export const TARIFF_BODY = {
  name: 'Standard Public Rate',
  currency: 'EUR',
  components: [
    { type: 'flat_fee', price: 1.5 },
    { type: 'per_kwh', price: '0.35' },
  ],
};
