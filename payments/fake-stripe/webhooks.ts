// Webhook delivery as Stripe does it: each event is POSTed as JSON, signed in a `Stripe-Signature` header
// over the exact body, asynchronously (an API reply never waits for it) and retried on failure. Stripe
// retries for days; the fake retries a few times within seconds so tests can watch it give up.
import http from 'node:http';
import https from 'node:https';
import Stripe from 'stripe';
import { type Logger } from '../../config/logger';
import { type FakeEventRecord } from './events';

export interface WebhookEndpoint {
  url: string;
  /** The endpoint's signing secret (`whsec_...`), which the receiver verifies with. */
  secret: string;
}

export interface WebhookRetryOptions {
  /** Wait before each retry; one attempt more than there are delays. Default 100, 400, 1600 ms. */
  retryDelaysMs?: number[];
  /** Per attempt. Default 5 s. */
  timeoutMs?: number;
}

type AttemptResult = { status: number } | { error: string };

const DEFAULT_RETRY_DELAYS_MS = [100, 400, 1600];
const DEFAULT_TIMEOUT_MS = 5000;

export function checkEndpoint(endpoint: WebhookEndpoint): WebhookEndpoint {
  let url: URL;
  try {
    url = new URL(endpoint.url);
  } catch {
    throw new Error(`webhook url must be an absolute http(s) URL, got ${JSON.stringify(endpoint.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`webhook url must be http or https, got ${JSON.stringify(endpoint.url)}`);
  }
  if (typeof endpoint.secret !== 'string' || endpoint.secret.trim() === '') {
    throw new Error('webhook secret must be a non-empty string');
  }
  return { url: endpoint.url, secret: endpoint.secret };
}

export class WebhookSender {
  private readonly retryDelaysMs: number[];
  private readonly timeoutMs: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly requests = new Set<http.ClientRequest>();
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  /** Bumped by stop(): deliveries started under an older generation give up at their next step. */
  private generation = 0;

  constructor(
    private readonly log: Logger,
    options: WebhookRetryOptions = {},
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!this.retryDelaysMs.every((ms) => Number.isFinite(ms) && ms >= 0)) {
      throw new RangeError('webhook retryDelaysMs must be non-negative numbers');
    }
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError('webhook timeoutMs must be a positive number');
    }
  }

  /** Starts delivering `record` (updating its delivery status); the promise settles when it is done. */
  send(record: FakeEventRecord, endpoint: WebhookEndpoint): Promise<void> {
    const delivery = this.deliver(record, endpoint, this.generation).finally(() =>
      this.inFlight.delete(delivery),
    );
    this.inFlight.add(delivery);
    return delivery;
  }

  /** Resolves once no delivery is under way, retries included. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Abandons every delivery under way: nothing more is sent for events emitted before this call. */
  stop(): void {
    this.generation += 1;
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
  }

  private async deliver(
    record: FakeEventRecord,
    endpoint: WebhookEndpoint,
    generation: number,
  ): Promise<void> {
    const { event, delivery } = record;
    delivery.state = 'pending';
    // Unacknowledged again, so a resend carries the very body of the first delivery, as a duplicate would.
    event.pending_webhooks = 1;
    for (let retry = 0; ; retry += 1) {
      const result = await this.post(endpoint, JSON.stringify(event, null, 2)).catch(
        (err: unknown): AttemptResult => ({ error: err instanceof Error ? err.message : String(err) }),
      );
      if (generation !== this.generation) return;
      delivery.attempts += 1;
      if ('status' in result && result.status >= 200 && result.status < 300) {
        delivery.state = 'delivered';
        delivery.deliveries += 1;
        delivery.lastStatus = result.status;
        delivery.lastError = null;
        event.pending_webhooks = 0;
        this.log.debug('webhook delivered', { eventId: event.id, type: event.type, status: result.status });
        return;
      }
      delivery.lastStatus = 'status' in result ? result.status : null;
      delivery.lastError = 'error' in result ? result.error : `HTTP ${result.status}`;
      if (retry >= this.retryDelaysMs.length) {
        delivery.state = 'failed';
        this.log.warn('webhook delivery failed, giving up', {
          eventId: event.id,
          type: event.type,
          attempts: delivery.attempts,
          lastError: delivery.lastError,
        });
        return;
      }
      await this.sleep(this.retryDelaysMs[retry]);
      if (generation !== this.generation) return;
    }
  }

  /** One signed POST. Signed per attempt, as Stripe does, so a retry carries a fresh timestamp. */
  private post(endpoint: WebhookEndpoint, payload: string): Promise<AttemptResult> {
    return new Promise((resolve) => {
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: endpoint.secret });
      const url = new URL(endpoint.url);
      const transport = url.protocol === 'https:' ? https : http;
      let answered = false;
      const request = transport.request(
        url,
        {
          method: 'POST',
          // A fresh connection per attempt: nothing is left open for tests (or the process) to wait on.
          agent: false,
          timeout: this.timeoutMs,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(payload),
            'Stripe-Signature': signature,
            'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            Connection: 'close',
          },
        },
        (res) => {
          answered = true;
          // The status decides, as on Stripe; the body is read only to free the socket.
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
        },
      );
      this.requests.add(request);
      request.on('close', () => {
        this.requests.delete(request);
        if (!answered) resolve({ error: 'connection closed without an answer' });
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', (err) => resolve({ error: err.message }));
      request.end(payload);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }
}
