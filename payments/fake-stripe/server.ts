// A stateful Stripe-compatible HTTP server that the official SDK talks to unchanged. Tests and the local
// platform use it because stripe-mock is stateless: there a capture does not change the PaymentIntent.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { logger as rootLogger } from '../../config/logger';
import { type FakeStripe, type FakeStripeOptions, type RecordedRequest } from './api';
import { CONTROL_PREFIX, controlRoute, parseControlBody } from './control-routes';
import { DeclineScript } from './declines';
import { type EventRequest, EventStore, type FakeEventRecord, type WebhookDelivery } from './events';
import { classify, defaultErrorType, FailureInjector, type FakeOperation } from './failure-injection';
import { feeSchedule } from './fees';
import { DEFAULT_HOLD_LIFETIME_MS, holdLifetimeSeconds } from './holds';
import { canonicalJson, type FormObject, FormParseError, parseForm } from './form-body';
import { authenticate, contentType, decodeId, readBody, singleHeader } from './http-input';
import { IdempotencyStore, MAX_IDEMPOTENCY_KEY_LENGTH, type StoredResponse } from './idempotency';
import { stripeId, unixNow } from './ids';
import { drawLatency, latencyRange, type LatencyOption } from './latency';
import { Ledger } from './ledger';
import { PaymentIntentStore } from './payment-intents';
import { RefundStore } from './refunds';
import { type Route, stripeRoutes } from './routes';
import { FakeStripeError, invalidParam, unrecognizedUrl } from './stripe-error';
import { TransferStore } from './transfers';
import { checkEndpoint, WebhookSender } from './webhooks';

const DEFAULT_API_VERSION = '2026-10-28.endive';
const NO_REQUEST: EventRequest = { id: null, idempotency_key: null };

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

export async function startFakeStripe(opts: FakeStripeOptions = {}): Promise<FakeStripe> {
  const log = (opts.logger ?? rootLogger).child({ component: 'fake-stripe' });
  const fees = feeSchedule(opts.fees);
  const initialHoldLifetime = holdLifetimeSeconds(opts.holdLifetimeMs ?? DEFAULT_HOLD_LIFETIME_MS);
  let holdLifetime = initialHoldLifetime;
  const initialLatency = latencyRange(opts.latencyMs);
  let latency = initialLatency;
  const initialEndpoint = opts.webhook ? checkEndpoint(opts.webhook) : undefined;
  let endpoint = initialEndpoint;
  let frozenAt: number | undefined;
  const clock = () => frozenAt ?? unixNow();
  // Set while an API request executes, so the events it causes name it, as Stripe's do.
  let currentRequest = NO_REQUEST;

  const events = new EventStore(clock, DEFAULT_API_VERSION);
  const webhooks = new WebhookSender(log, opts.webhookRetry);
  function emit(type: Parameters<EventStore['create']>[0], object: object): void {
    const record = events.create(type, object, currentRequest, endpoint ? 1 : 0);
    if (endpoint) void webhooks.send(record, endpoint);
  }
  const ledger: Ledger = new Ledger({
    clock,
    fees,
    emit,
    findIntent: (id) => intents.get(id),
    findRefund: (id) => refunds.get(id),
    findTransfer: (id) => transfers.get(id),
  });
  const declines = new DeclineScript();
  const intents = new PaymentIntentStore({
    clock,
    listener: ledger,
    declines,
    holdLifetimeSeconds: () => holdLifetime,
  });
  const refunds = new RefundStore({
    clock,
    findIntent: (id) => intents.get(id),
    booked: (refund) => ledger.refunded(refund),
  });
  const transfers = new TransferStore(clock, (transfer) => ledger.transferred(transfer));
  const idempotency = new IdempotencyStore();
  const failures = new FailureInjector();
  const recorded: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const routes: Route[] = stripeRoutes({ intents, refunds, transfers, ledger, events });

  function startResend(id: string): { record: FakeEventRecord; done: Promise<WebhookDelivery> } {
    const record = events.record(id);
    if (!record) throw invalidParam(`No such event: '${id}'`, { code: 'resource_missing', param: 'id' });
    if (!endpoint) {
      throw invalidParam('No webhook endpoint is configured, so there is nowhere to resend the event to.');
    }
    const done = webhooks.send(record, endpoint).then(() => structuredClone(record.delivery));
    return { record: structuredClone(record), done };
  }

  function setHoldLifetime(ms: number | undefined): void {
    holdLifetime = ms === undefined ? initialHoldLifetime : holdLifetimeSeconds(ms);
  }

  function setLatency(option: LatencyOption | undefined): void {
    latency = option === undefined ? initialLatency : latencyRange(option);
  }

  const controls = {
    createDispute: (req: Parameters<FakeStripe['createDispute']>[0]) => ledger.openDispute(req),
    closeDispute: (id: string, status: 'won' | 'lost') => ledger.closeDispute(id, status),
    startResend: (id: string) => startResend(id).record,
    expireHold: (id: string) => intents.expireHold(id),
    declineNext: (rule: Parameters<FakeStripe['declineNext']>[0]) => declines.add(rule),
    setHoldLifetime,
    setLatency,
  };

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
      if (path.startsWith(CONTROL_PREFIX)) return okReply(controlRoute(method, path, params, controls));
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
    requestId: string,
  ): Reply {
    if (path.startsWith(CONTROL_PREFIX)) {
      const body = method === 'POST' ? parseControlBody(rawBody, contentType(req)) : parseForm('');
      return route(method, path, body);
    }
    const apiKey = authenticate(req);
    if (method === 'POST' && rawBody !== '') {
      const type = contentType(req);
      if (type !== 'application/x-www-form-urlencoded') {
        throw invalidParam(
          `Invalid request: the body must be application/x-www-form-urlencoded, got '${type.slice(0, 80)}'.`,
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
    const run = () => {
      currentRequest = { id: requestId, idempotency_key: key ?? null };
      try {
        return route(method, path, params);
      } finally {
        currentRequest = NO_REQUEST;
      }
    };
    if (key === undefined) return run();
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
    const reply = run();
    if (reply.storable) {
      idempotency.save(apiKey, key, fingerprint, { status: reply.status, body: reply.body });
    }
    return reply;
  }

  /**
   * Records the reply when it is decided, then writes it after `delayMs`. Recording first keeps the log in
   * the order the fake acted, even when a held-back reply is written after a later request's.
   */
  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    reply: Reply,
    requestId: string,
    { delayMs = 0, operation }: { delayMs?: number; operation?: FakeOperation } = {},
  ) {
    const method = (req.method ?? 'GET').toUpperCase();
    const idempotencyKey = method === 'POST' ? singleHeader(req, 'idempotency-key') : undefined;
    const replayed = reply.replayed === true;
    recorded.push({
      method,
      path,
      idempotencyKey,
      status: reply.status,
      replayed,
      ...(operation ? { operation } : {}),
    });
    log.debug('request', { method, path, status: reply.status, idempotencyKey, replayed });
    // A provider's round trip (setLatency) comes on top of a scripted slow reply; test controls answer at once.
    const roundTrip = path.startsWith(CONTROL_PREFIX) || latency.max === 0 ? 0 : drawLatency(latency);
    await wait(delayMs + roundTrip);
    // The client may have given up (timed out) while the reply was held back.
    if (res.writableEnded || res.destroyed) return;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Request-Id': requestId,
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
    const requestId = stripeId('req', 14);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://fake-stripe.invalid');
    } catch {
      // e.g. `GET //` parses as a URL without a host.
      return respond(req, res, req.url ?? '', errorReply(invalidParam('Invalid request URL.')), requestId);
    }
    const path = url.pathname;
    let operation: FakeOperation | undefined;
    try {
      const rawBody = await readBody(req);
      operation = path.startsWith(CONTROL_PREFIX) ? undefined : classify(method, path, rawBody).operation;
      const rule = failures.take(method, path, rawBody);
      if (rule && rule.status >= 400) {
        const type = rule.type ?? defaultErrorType(rule.status);
        const body = {
          type,
          message: rule.message ?? `Injected failure (HTTP ${rule.status}).`,
          code: rule.code,
        };
        const reply = errorReply(new FakeStripeError(rule.status, body, false));
        return respond(req, res, path, reply, requestId, { delayMs: rule.delayMs, operation });
      }
      const reply = execute(req, method, path, url.search.slice(1), rawBody, requestId);
      return respond(req, res, path, reply, requestId, { delayMs: rule?.delayMs, operation });
    } catch (err) {
      if (!(err instanceof FakeStripeError)) throw err;
      return respond(req, res, path, errorReply(err), requestId, { operation });
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
        webhooks.stop();
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
    charge: (id) => ledger.charges.get(id),
    listCharges: () => ledger.charges.all(),
    balanceTransaction: (id) => ledger.balance.get(id),
    listBalanceTransactions: () => ledger.balance.all(),
    dispute: (id) => ledger.disputes.get(id),
    listDisputes: () => ledger.disputes.all(),
    createDispute: (req) => ledger.openDispute(req),
    closeDispute: (id, status) => ledger.closeDispute(id, status),
    events: () => events.all(),
    resendEvent: async (id) => startResend(id).done,
    setWebhookEndpoint(url, secret) {
      endpoint = checkEndpoint({ url, secret });
    },
    removeWebhookEndpoint() {
      endpoint = undefined;
    },
    webhooksIdle: () => webhooks.idle(),
    setNow(at) {
      if (at !== undefined && Number.isNaN(at.getTime())) throw new RangeError('setNow: invalid Date');
      frozenAt = at === undefined ? undefined : Math.floor(at.getTime() / 1000);
    },
    failNext: (rule) => failures.add(rule),
    declineNext: (rule) => declines.add(rule),
    expireHold(id) {
      try {
        return intents.expireHold(id);
      } catch (err) {
        // Outside HTTP there is no status to carry the refusal: a plain Error reads better in a test.
        if (err instanceof FakeStripeError) throw new Error(`expireHold: ${err.message}`, { cause: err });
        throw err;
      }
    },
    setHoldLifetime,
    setLatency,
    incrementAttempts: (id) => intents.incrementAttempts(id),
    requests: () => recorded.map((r) => ({ ...r })),
    reset() {
      webhooks.stop();
      intents.clear();
      refunds.clear();
      transfers.clear();
      ledger.clear();
      events.clear();
      idempotency.clear();
      failures.clear();
      declines.clear();
      holdLifetime = initialHoldLifetime;
      latency = initialLatency;
      recorded.length = 0;
      endpoint = initialEndpoint;
      frozenAt = undefined;
    },
  };
}
