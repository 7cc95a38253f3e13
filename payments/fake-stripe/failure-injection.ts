// Scripted failures, so tests can show what the platform does when Stripe is slow, down or throttling.
import { type FormObject, parseForm } from './form-body';

/**
 * The money-moving calls by what they do, which the path alone does not tell: a hold and an off-session
 * charge are both `POST /v1/payment_intents`, and an increment's path names the intent in the middle.
 */
export type FakeOperation =
  'authorize' | 'off_session' | 'increment' | 'capture' | 'cancel' | 'refund' | 'transfer';

export interface FailureRule {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Matches request paths starting with this, e.g. `/v1/payment_intents`. */
  pathPrefix?: string;
  /** Matches only this kind of call (see FakeOperation). */
  operation?: FakeOperation;
  /** Matches only calls on this PaymentIntent (capture, increment, cancel). */
  paymentIntent?: string;
  /**
   * Status to answer with. From 400 up the request is refused without executing (nothing changes and
   * nothing is stored under its idempotency key, as when a request never reached Stripe). Below 400 the
   * request executes normally and only its response is held back by `delayMs`, which simulates a
   * response lost to a client timeout after Stripe acted on it.
   */
  status: number;
  type?: string;
  code?: string;
  message?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** How many matching requests the rule applies to (default 1). */
  count?: number;
}

interface ActiveRule extends FailureRule {
  remaining: number;
}

export class FailureInjector {
  private readonly rules: ActiveRule[] = [];

  add(rule: FailureRule): void {
    if (!Number.isInteger(rule.status) || rule.status < 100 || rule.status > 599) {
      throw new RangeError(`failNext: status must be an HTTP status code, got ${String(rule.status)}`);
    }
    const count = rule.count ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`failNext: count must be a positive integer, got ${String(rule.count)}`);
    }
    const delayMs = rule.delayMs ?? 0;
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new RangeError(`failNext: delayMs must be >= 0, got ${String(rule.delayMs)}`);
    }
    this.rules.push({ ...rule, remaining: count });
  }

  /** The first rule matching this request, consumed by one use. */
  take(method: string, path: string, rawBody = ''): FailureRule | undefined {
    const call = this.rules.some((r) => r.operation || r.paymentIntent)
      ? classify(method, path, rawBody)
      : {};
    const index = this.rules.findIndex(
      (r) =>
        (r.method === undefined || r.method.toUpperCase() === method.toUpperCase()) &&
        (r.pathPrefix === undefined || path.startsWith(r.pathPrefix)) &&
        (r.operation === undefined || r.operation === call.operation) &&
        (r.paymentIntent === undefined || r.paymentIntent === call.paymentIntent),
    );
    if (index === -1) return undefined;
    const rule = this.rules[index];
    rule.remaining -= 1;
    if (rule.remaining === 0) this.rules.splice(index, 1);
    return rule;
  }

  clear(): void {
    this.rules.length = 0;
  }
}

const intentAction = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel|increment_authorization)$/;

/** What a request does, as far as failure rules care. */
export function classify(
  method: string,
  path: string,
  rawBody: string,
): { operation?: FakeOperation; paymentIntent?: string } {
  if (method.toUpperCase() !== 'POST') return {};
  if (path === '/v1/refunds') return { operation: 'refund' };
  if (path === '/v1/transfers') return { operation: 'transfer' };
  const action = intentAction.exec(path);
  if (action) {
    const operation = action[2] === 'increment_authorization' ? 'increment' : (action[2] as FakeOperation);
    let paymentIntent: string | undefined;
    try {
      paymentIntent = decodeURIComponent(action[1]);
    } catch {
      paymentIntent = undefined; // a malformed id is answered with a 404 anyway
    }
    return { operation, paymentIntent };
  }
  if (path !== '/v1/payment_intents') return {};
  let params: FormObject;
  try {
    params = parseForm(rawBody);
  } catch {
    return {}; // the request itself will be refused with a clear error
  }
  const offSession = params.off_session !== undefined && params.off_session !== 'false';
  return { operation: offSession && params.capture_method !== 'manual' ? 'off_session' : 'authorize' };
}

/** Stripe's error type for a status, so the SDK builds the same error class as for a real failure. */
export function defaultErrorType(status: number): string {
  if (status === 402) return 'card_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}
