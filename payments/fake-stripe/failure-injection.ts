// Scripted failures, so tests can show what the platform does when Stripe is slow, down or throttling.

export interface FailureRule {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Matches request paths starting with this, e.g. `/v1/payment_intents`. */
  pathPrefix?: string;
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
  take(method: string, path: string): FailureRule | undefined {
    const index = this.rules.findIndex(
      (r) =>
        (r.method === undefined || r.method.toUpperCase() === method.toUpperCase()) &&
        (r.pathPrefix === undefined || path.startsWith(r.pathPrefix)),
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

/** Stripe's error type for a status, so the SDK builds the same error class as for a real failure. */
export function defaultErrorType(status: number): string {
  if (status === 402) return 'card_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}
