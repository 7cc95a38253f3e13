import http from 'http';
import type { AddressInfo, Socket } from 'net';
import type { Duplex } from 'stream';
import { WebSocketServer } from 'ws';
import { Logger, logger } from '../config/logger';
import { assertChargePointHandlers } from './actions';
import { ChargePointConnection, ChargePointIdentity, HandlerMap } from './connection';
import { ChargePointUnavailable, OcppError } from './errors';
import {
  OCPP16_SUBPROTOCOL,
  offersSubprotocol,
  parseBasicAuth,
  parseIdentity,
  refuseUpgrade,
} from './handshake';

export { ChargePointUnavailable, OcppError };
export type { OcppErrorCode } from './errors';
export type { ChargePointIdentity, Handler, HandlerContext, HandlerMap } from './connection';

export type AuthenticateResult =
  { ok: true; chargePoint: ChargePointIdentity } | { ok: false; status: 401 | 404; reason: string };

export type Authenticate = (identity: string, password: string | undefined) => Promise<AuthenticateResult>;

export interface OcppServerOptions {
  /** Default 0: an ephemeral port (see the returned `port`). */
  port?: number;
  host?: string;
  /** Route prefix; charge points connect to `<path>/<identity>`. Default '/ocpp'. */
  path?: string;
  authenticate: Authenticate;
  handlers: HandlerMap;
  log?: Logger;
  /** Largest accepted frame; a bigger one closes the connection with 1009. Default 65536. */
  maxPayloadBytes?: number;
  /** Default 30000; on expiry the charge point gets InternalError and will retry. */
  handlerTimeoutMs?: number;
  /** WebSocket ping interval for dropping dead connections; 0 turns it off. Default 30000. */
  pingIntervalMs?: number;
  /** Calls waiting on one connection before further ones are refused. Default 100. */
  maxQueuedCalls?: number;
  /**
   * Sustained CALLs per second per charge point (bursts of twice that); beyond it a CALL gets GenericError
   * and the charge point retries later. Default 50: a charge point resending its offline backlog stays
   * well under it, a runaway firmware loop does not.
   */
  maxCallsPerSecond?: number;
}

export interface OcppServer {
  port: number;
  /** Base URL; a charge point connects to `${url}/${encodeURIComponent(identity)}`. */
  url: string;
  close(): Promise<void>;
  /** Charge points currently connected (one per identity). */
  connections(): number;
  isConnected(identity: string): boolean;
  /** Identities of the charge points connected now. */
  identities(): string[];
  /** A central-system CALL to a connected charge point; see ChargePointConnection.sendCall. */
  sendCall(identity: string, action: string, payload: object, timeoutMs?: number): Promise<object>;
}

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
// Give charge points this long to finish the close handshake on shutdown before their sockets are cut.
const SHUTDOWN_GRACE_MS = 2_000;

export async function startOcppServer(opts: OcppServerOptions): Promise<OcppServer> {
  assertChargePointHandlers(opts.handlers);
  const basePath = (opts.path ?? '/ocpp').replace(/\/+$/, '');
  const log = (opts.log ?? logger).child({ component: 'ocpp' });
  const connectionOptions = {
    handlers: opts.handlers,
    log,
    handlerTimeoutMs: opts.handlerTimeoutMs ?? 30_000,
    maxQueuedCalls: opts.maxQueuedCalls ?? 100,
    maxCallsPerSecond: opts.maxCallsPerSecond ?? 50,
  };
  const byIdentity = new Map<string, ChargePointConnection>();
  const all = new Set<ChargePointConnection>();
  const sockets = new Set<Socket>();
  let closing = false;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayloadBytes ?? 65_536,
    // Compression off: it buys little for small JSON frames and costs CPU and memory per connection.
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(OCPP16_SUBPROTOCOL) ? OCPP16_SUBPROTOCOL : false),
  });
  wss.on('error', (err) => log.error('websocket server error', { err }));

  const httpServer = http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
    res.end('OCPP 1.6J: connect with a WebSocket to <path>/<charge point identity>');
  });
  httpServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  httpServer.on('clientError', (err, socket) => {
    log.debug('bad HTTP request', { err });
    socket.destroy();
  });
  httpServer.on('upgrade', (req, socket, head) => {
    handleUpgrade(req, socket, head).catch((err) => {
      log.error('upgrade failed', { err });
      refuseUpgrade(socket, 500);
    });
  });

  function refuse(socket: Duplex, status: number, fields: Record<string, unknown>): void {
    log.warn('charge point connection refused', { status, ...fields });
    refuseUpgrade(socket, status, status === 401 ? { 'WWW-Authenticate': 'Basic realm="OCPP"' } : {});
  }

  async function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A charge point resetting the TCP connection mid-handshake must not become an unhandled error.
    socket.on('error', (err) => log.debug('socket error during handshake', { err }));
    const remoteAddress = req.socket.remoteAddress;
    if (closing) return refuse(socket, 503, { remoteAddress, reason: 'server shutting down' });

    const target = parseIdentity(req.url, basePath);
    if (!target.ok) return refuse(socket, target.status, { remoteAddress, reason: target.reason });
    const { identity } = target;

    // OCPP-J 1.6 has the server finish the handshake without a Sec-WebSocket-Protocol header and then
    // close; we refuse with 400 before upgrading instead, which tells the charge point (and whoever
    // reads its log) why in the handshake response and never opens a socket we would not speak on.
    if (!offersSubprotocol(req.headers['sec-websocket-protocol'], OCPP16_SUBPROTOCOL)) {
      return refuse(socket, 400, { identity, remoteAddress, reason: 'subprotocol ocpp1.6 not offered' });
    }

    const credentials = parseBasicAuth(req.headers.authorization);
    if (credentials.kind === 'malformed') {
      return refuse(socket, 401, { identity, remoteAddress, reason: 'malformed Authorization header' });
    }
    if (credentials.kind === 'basic' && credentials.username !== identity) {
      return refuse(socket, 401, {
        identity,
        remoteAddress,
        reason: 'Basic username differs from the identity',
      });
    }
    const password = credentials.kind === 'basic' ? credentials.password : undefined;

    const auth = await opts.authenticate(identity, password);
    if (!auth.ok) return refuse(socket, auth.status, { identity, remoteAddress, reason: auth.reason });
    if (closing) return refuse(socket, 503, { identity, remoteAddress, reason: 'server shutting down' });
    if (socket.destroyed) return;

    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new ChargePointConnection(ws, auth.chargePoint, connectionOptions);
      all.add(connection);
      // Charge points reconnect after reboots and network changes while the old TCP connection may
      // still look open; the newest connection is the one the charge point is using.
      const previous = byIdentity.get(identity);
      byIdentity.set(identity, connection);
      if (previous) {
        previous.log.info('replaced by a new connection');
        previous.close(1000, 'Replaced by a new connection');
      }
      connection.log.info('charge point connected', { remoteAddress });
      ws.on('close', (code, reason) => {
        all.delete(connection);
        if (byIdentity.get(identity) === connection) byIdentity.delete(identity);
        connection.log.info('charge point disconnected', {
          code,
          reason: reason.toString('utf8').slice(0, 123),
        });
      });
    });
  }

  const pingIntervalMs = opts.pingIntervalMs ?? 30_000;
  const keepAlive =
    pingIntervalMs > 0
      ? setInterval(() => {
          for (const connection of all) connection.checkAlive();
        }, pingIntervalMs)
      : undefined;
  keepAlive?.unref();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port ?? 0, opts.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  httpServer.on('error', (err) => log.error('OCPP HTTP server error', { err }));

  const port = (httpServer.address() as AddressInfo).port;
  const shownHost = !opts.host || opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `ws://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}${basePath}`;
  log.info('OCPP 1.6J server listening', { url });

  let closed: Promise<void> | undefined;
  // Idempotent: shutdown hooks and tests may both call close().
  function close(): Promise<void> {
    closed ??= shutdown();
    return closed;
  }

  async function shutdown(): Promise<void> {
    closing = true;
    clearInterval(keepAlive);
    for (const connection of all) connection.close(1001, 'Server shutting down');
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    while (all.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const connection of all) connection.ws.terminate();
    await new Promise<void>((resolve) => {
      wss.close(() => resolve());
    });
    const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await httpClosed;
    log.info('OCPP 1.6J server closed');
  }

  return {
    port,
    url,
    close,
    connections: () => byIdentity.size,
    isConnected: (identity) => byIdentity.has(identity),
    identities: () => [...byIdentity.keys()],
    sendCall: (identity, action, payload, timeoutMs = DEFAULT_CALL_TIMEOUT_MS) => {
      const connection = byIdentity.get(identity);
      if (!connection) {
        return Promise.reject(
          new ChargePointUnavailable('offline', `Charge point ${identity} is not connected`),
        );
      }
      return connection.sendCall(action, payload, timeoutMs);
    },
  };
}
