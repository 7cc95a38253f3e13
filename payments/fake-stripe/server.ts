// A stateful Stripe-compatible HTTP server that the official SDK talks to unchanged. Tests and the local
// platform use it because stripe-mock is stateless: there a capture does not change the PaymentIntent.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Logger, logger as rootLogger } from '../../config/logger';
import { defaultErrorType, type FailureRule, FailureInjector } from './failure-injection';
import { canonicalJson, type FormObject, FormParseError, parseForm } from './form-body';
import { IdempotencyStore, MAX_IDEMPOTENCY_KEY_LENGTH, type StoredResponse } from './idempotency';
import { stripeId } from './ids';
import { type FakePaymentIntent, PaymentIntentStore } from './payment-intents';
import { type FakeRefund, RefundStore } from './refunds';
import { type FakeTransfer, TransferStore } from './transfers';
import { FakeStripeError, invalidParam, noSuchObject, unrecognizedUrl } from './stripe-error';

export interface FakeStripeOptions {
  /** 0 (the default) picks a free port, which is what tests want. */
  port?: number;
  host?: string;
  logger?: Logger;
}

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey?: string;
  status: number;
  replayed: boolean;
}

export interface FakeStripe {
  url: string;
  port: number;
  close(): Promise<void>;
  paymentIntent(id: string): FakePaymentIntent | undefined;
  listPaymentIntents(): FakePaymentIntent[];
  refund(id: string): FakeRefund | undefined;
  /** Every refund, oldest first. */
  listRefunds(): FakeRefund[];
  /** The running total refunded on an intent, in minor units. */
  refundedAmount(paymentIntentId: string): number;
  transfer(id: string): FakeTransfer | undefined;
  /** Every transfer to a connected account, oldest first. */
  listTransfers(): FakeTransfer[];
  failNext(rule: FailureRule): void;
  /** Every request handled so far, in the order the fake acted on them: what actually went over the wire. */
  requests(): RecordedRequest[];
  /** Forgets intents, refunds, transfers, idempotency keys, pending failure rules and recorded requests. */
  reset(): void;
}

const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_API_VERSION = '2026-10-28.endive';

interface Reply extends StoredResponse {
  /** Whether this reply may be kept under the request's idempotency key (see FakeStripeError). */
  storable: boolean;
  replayed?: boolean;
}

function errorReply(error: FakeStripeError): Reply {
  return {
    status: error.status,
    body: JSON.stringify({ error: error.body }, null, 2),
    storable: error.storeForIdempotency,
  };
}

function okReply(body: object): Reply {
  return { status: 200, body: JSON.stringify(body, null, 2), storable: true };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.pause();
        reject(
          new FakeStripeError(413, { type: 'invalid_request_error', message: 'Request body too large.' }),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A client that hangs up mid-body is answered like any bad request (the write is then skipped).
    req.on('error', () => reject(invalidParam('The request body could not be read.')));
  });
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Only the key's prefix goes into messages and logs: even a test key should not be echoed whole. */
function redactKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(4)}${key.slice(-4)}` : '****';
}

function authenticate(req: IncomingMessage): string {
  const header = singleHeader(req, 'authorization');
  if (!header) {
    throw new FakeStripeError(
      401,
      {
        type: 'invalid_request_error',
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      },
      false,
    );
  }
  const match = /^Bearer\s+(sk_\S+)$/.exec(header);
  if (!match) {
    const given = header.replace(/^Bearer\s+/i, '');
    throw new FakeStripeError(
      401,
      { type: 'invalid_request_error', message: `Invalid API Key provided: ${redactKey(given)}` },
      false,
    );
  }
  return match[1];
}

/** The path's object id; `kind` and `param` name the object in the 404 for an undecodable one. */
function decodeId(segment: string, kind: string, param: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw noSuchObject(kind, segment.slice(0, 100), param);
  }
}

type RouteHandler = (params: FormObject, id: string) => object;

interface Route {
  method: string;
  pattern: RegExp;
  handler: RouteHandler;
  /** The object the path's id names, as Stripe spells it in a 404, and the path parameter's name. */
  object?: { kind: string; param: string };
}

const intentObject = { kind: 'payment_intent', param: 'intent' };
const refundObject = { kind: 'refund', param: 'refund' };
const transferObject = { kind: 'transfer', param: 'transfer' };

export async function startFakeStripe(opts: FakeStripeOptions = {}): Promise<FakeStripe> {
  const log = (opts.logger ?? rootLogger).child({ component: 'fake-stripe' });
  const intents = new PaymentIntentStore();
  const refunds = new RefundStore((id) => intents.get(id));
  const transfers = new TransferStore();
  const idempotency = new IdempotencyStore();
  const failures = new FailureInjector();
  const recorded: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const routes: Route[] = [
    { method: 'POST', pattern: /^\/v1\/payment_intents$/, handler: (p) => intents.create(p) },
    { method: 'GET', pattern: /^\/v1\/payment_intents$/, handler: (p) => intents.list(p) },
    {
      method: 'GET',
      pattern: /^\/v1\/payment_intents\/([^/]+)$/,
      handler: (p, id) => intents.retrieve(id, p),
      object: intentObject,
    },
    {
      method: 'POST',
      pattern: /^\/v1\/payment_intents\/([^/]+)\/capture$/,
      handler: (p, id) => intents.capture(id, p),
      object: intentObject,
    },
    {
      method: 'POST',
      pattern: /^\/v1\/payment_intents\/([^/]+)\/cancel$/,
      handler: (p, id) => intents.cancel(id, p),
      object: intentObject,
    },
    { method: 'POST', pattern: /^\/v1\/refunds$/, handler: (p) => refunds.create(p) },
    {
      method: 'GET',
      pattern: /^\/v1\/refunds\/([^/]+)$/,
      handler: (p, id) => refunds.retrieve(id, p),
      object: refundObject,
    },
    { method: 'POST', pattern: /^\/v1\/transfers$/, handler: (p) => transfers.create(p) },
    {
      method: 'GET',
      pattern: /^\/v1\/transfers\/([^/]+)$/,
      handler: (p, id) => transfers.retrieve(id, p),
      object: transferObject,
    },
  ];

  function wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    // Tracked so close() can drop pending replies instead of keeping the process alive.
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  function route(method: string, path: string, params: FormObject): Reply {
    try {
      for (const r of routes) {
        const match = r.pattern.exec(path);
        if (match && r.method === method) {
          const id = match[1] && r.object ? decodeId(match[1], r.object.kind, r.object.param) : '';
          return okReply(r.handler(params, id));
        }
      }
      throw unrecognizedUrl(method, path);
    } catch (err) {
      if (err instanceof FakeStripeError) return errorReply(err);
      throw err;
    }
  }

  function execute(
    req: IncomingMessage,
    method: string,
    path: string,
    query: string,
    rawBody: string,
  ): Reply {
    const apiKey = authenticate(req);
    if (method === 'POST' && rawBody !== '') {
      const contentType = (singleHeader(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (contentType !== 'application/x-www-form-urlencoded') {
        throw invalidParam(
          `Invalid request: the body must be application/x-www-form-urlencoded, got '${contentType.slice(0, 80)}'.`,
        );
      }
    }
    let params: FormObject;
    try {
      params = parseForm(method === 'POST' ? rawBody : query);
    } catch (err) {
      if (err instanceof FormParseError) throw invalidParam(err.message, { param: err.param });
      throw err;
    }

    const key = method === 'POST' ? singleHeader(req, 'idempotency-key') : undefined;
    if (key === undefined) return route(method, path, params);
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw invalidParam(`Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long.`);
    }
    const fingerprint = `${method} ${path} ${canonicalJson(params)}`;
    const previous = idempotency.lookup(apiKey, key, fingerprint);
    if (previous.kind === 'replay') return { ...previous.response, storable: false, replayed: true };
    if (previous.kind === 'mismatch') {
      throw new FakeStripeError(
        400,
        {
          type: 'idempotency_error',
          message:
            'Keys for idempotent requests can only be used with the same parameters they were first used with. ' +
            `Try using a key other than '${key}' if you meant to execute a different request.`,
        },
        false,
      );
    }
    const reply = route(method, path, params);
    if (reply.storable) {
      idempotency.save(apiKey, key, fingerprint, { status: reply.status, body: reply.body });
    }
    return reply;
  }

  /**
   * Records the reply when it is decided, then writes it after `delayMs`. Recording first keeps the log in
   * the order the fake acted, even when a held-back reply is written after a later request's.
   */
  async function respond(req: IncomingMessage, res: ServerResponse, path: string, reply: Reply, delayMs = 0) {
    const method = (req.method ?? 'GET').toUpperCase();
    const idempotencyKey = method === 'POST' ? singleHeader(req, 'idempotency-key') : undefined;
    const replayed = reply.replayed === true;
    recorded.push({ method, path, idempotencyKey, status: reply.status, replayed });
    log.debug('request', { method, path, status: reply.status, idempotencyKey, replayed });
    await wait(delayMs);
    // The client may have given up (timed out) while the reply was held back.
    if (res.writableEnded || res.destroyed) return;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Request-Id': stripeId('req', 14),
      'Stripe-Version': singleHeader(req, 'stripe-version') ?? DEFAULT_API_VERSION,
    };
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
    if (replayed) headers['Idempotent-Replayed'] = 'true';
    if (reply.status === 413) headers.Connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://fake-stripe.invalid');
    } catch {
      // e.g. `GET //` parses as a URL without a host.
      return respond(req, res, req.url ?? '', errorReply(invalidParam('Invalid request URL.')));
    }
    const path = url.pathname;
    try {
      const rawBody = await readBody(req);
      const rule = failures.take(method, path);
      if (rule && rule.status >= 400) {
        const type = rule.type ?? defaultErrorType(rule.status);
        const body = {
          type,
          message: rule.message ?? `Injected failure (HTTP ${rule.status}).`,
          code: rule.code,
        };
        return respond(
          req,
          res,
          path,
          errorReply(new FakeStripeError(rule.status, body, false)),
          rule.delayMs,
        );
      }
      return respond(req, res, path, execute(req, method, path, url.search.slice(1), rawBody), rule?.delayMs);
    } catch (err) {
      if (!(err instanceof FakeStripeError)) throw err;
      return respond(req, res, path, errorReply(err));
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('fake stripe request failed', { err, method: req.method, url: req.url });
      if (res.headersSent || res.destroyed) return;
      const body = { error: { type: 'api_error', message: 'An unexpected error occurred in the fake.' } };
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  // A request Node cannot even parse as HTTP gets a 400 rather than an unhandled socket error.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('fake stripe server error', { err }));
  const port = (server.address() as AddressInfo).port;
  const urlHost =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // The SDK keeps connections alive; without this, close() would wait for them to idle out.
        server.closeAllConnections();
      });
      return closed;
    },
    paymentIntent: (id) => intents.get(id),
    listPaymentIntents: () => intents.all(),
    refund: (id) => refunds.get(id),
    listRefunds: () => refunds.all(),
    refundedAmount: (paymentIntentId) => refunds.refundedAmount(paymentIntentId),
    transfer: (id) => transfers.get(id),
    listTransfers: () => transfers.all(),
    failNext: (rule) => failures.add(rule),
    requests: () => recorded.map((r) => ({ ...r })),
    reset() {
      intents.clear();
      refunds.clear();
      transfers.clear();
      idempotency.clear();
      failures.clear();
      recorded.length = 0;
    },
  };
}
