import { HandlerContext, OcppError, OcppServer, OcppServerOptions, startOcppServer } from '../../ocpp/server';
import { captureLogger, LogEntry } from './helpers';

// identity -> password (undefined: the charge point connects without Basic auth, security profile 0).
export const PASSWORDS: Record<string, string | undefined> = {
  CP1: 'cp1-secret-key-0123',
  CP2: 'cp2-secret-key-0123',
  'CP 3/é': undefined,
};

export function stubAuthenticate() {
  return jest.fn(async (identity: string, password: string | undefined) => {
    if (!Object.hasOwn(PASSWORDS, identity))
      return { ok: false as const, status: 401 as const, reason: 'unknown' };
    if (PASSWORDS[identity] !== password)
      return { ok: false as const, status: 401 as const, reason: 'bad password' };
    return {
      ok: true as const,
      chargePoint: { id: `cp_${identity}`, identity, organizationId: 'org_1', tariffId: 'tar_1' },
    };
  });
}

export function stubHandlers() {
  return {
    BootNotification: jest.fn(async (_p: unknown, _ctx: HandlerContext) => ({
      status: 'Accepted',
      currentTime: new Date().toISOString(),
      interval: 300,
    })),
    Heartbeat: jest.fn(async (_p: unknown, _ctx: HandlerContext) => ({
      currentTime: new Date().toISOString(),
    })),
    Authorize: jest.fn(async (_p: unknown, _ctx: HandlerContext) => ({ idTagInfo: { status: 'Accepted' } })),
    // Handler bug: transactionId must be an integer.
    StartTransaction: jest.fn(async (_p: unknown, _ctx: HandlerContext) => ({
      transactionId: 'tx-1',
      idTagInfo: { status: 'Accepted' },
    })),
    StopTransaction: jest.fn(async (_p: unknown, _ctx: HandlerContext): Promise<object> => {
      throw new OcppError('SecurityError', 'Transaction belongs to another charge point', {
        transactionId: 9,
      });
    }),
    DataTransfer: jest.fn(async (_p: unknown, _ctx: HandlerContext): Promise<object> => {
      throw new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
    }),
    DiagnosticsStatusNotification: jest.fn(
      (_p: unknown, ctx: HandlerContext) =>
        new Promise<object>((resolve) => ctx.signal.addEventListener('abort', () => resolve({}))),
    ),
  };
}

export interface Fixture {
  server: OcppServer;
  handlers: ReturnType<typeof stubHandlers>;
  authenticate: ReturnType<typeof stubAuthenticate>;
  logs: LogEntry[];
  endpoint(identity: string): string;
}

export async function startFixture(overrides: Partial<OcppServerOptions> = {}): Promise<Fixture> {
  const { log, entries } = captureLogger();
  const handlers = stubHandlers();
  const authenticate = stubAuthenticate();
  const server = await startOcppServer({
    host: '127.0.0.1',
    port: 0,
    authenticate,
    handlers,
    log,
    handlerTimeoutMs: 300,
    ...overrides,
  });
  return {
    server,
    handlers,
    authenticate,
    logs: entries,
    endpoint: (identity) => `${server.url}/${encodeURIComponent(identity)}`,
  };
}
