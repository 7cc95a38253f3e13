// Declines scripted by a test: the next hold, increment or off-session charge that matches is declined by
// the card network, whatever the card. Unlike failNext (an HTTP failure before Stripe acts), a decline is
// Stripe's answer: it is a 402 card_error, it counts as an increment attempt, and it is stored for replay.
import { type CardDecline, declineByCode } from './test-cards';

/**
 * `authorize`: a confirmation that is not an off-session charge (a hold, or a payment with the customer
 * present). `off_session`: a confirmation with `off_session` and automatic capture, which is how a saved
 * card is charged later. `increment`: an increment_authorization attempt.
 */
export type DeclineOperation = 'authorize' | 'increment' | 'off_session';
export const declineOperations: readonly DeclineOperation[] = ['authorize', 'increment', 'off_session'];

export interface DeclineRule {
  on: DeclineOperation;
  /** Only this PaymentIntent (useful for increments). */
  paymentIntent?: string;
  paymentMethod?: string;
  customer?: string;
  /** Stripe's decline code: `generic_decline` (default), `insufficient_funds`, `authentication_required`, ... */
  declineCode?: string;
  /** How many matching attempts are declined (default 1). */
  count?: number;
}

export interface DeclineTarget {
  paymentIntent: string;
  paymentMethod: string | null;
  customer: string | null;
}

interface ActiveRule extends DeclineRule {
  remaining: number;
}

export class DeclineScript {
  private readonly rules: ActiveRule[] = [];

  add(rule: DeclineRule): void {
    if (!declineOperations.includes(rule.on)) {
      throw new RangeError(`declineNext: on must be one of ${declineOperations.join(', ')}`);
    }
    const count = rule.count ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`declineNext: count must be a positive integer, got ${String(rule.count)}`);
    }
    this.rules.push({ ...rule, remaining: count });
  }

  /** The decline for this attempt, consuming one use of the first matching rule. */
  take(on: DeclineOperation, target: DeclineTarget): CardDecline | undefined {
    const index = this.rules.findIndex(
      (r) =>
        r.on === on &&
        (r.paymentIntent === undefined || r.paymentIntent === target.paymentIntent) &&
        (r.paymentMethod === undefined || r.paymentMethod === target.paymentMethod) &&
        (r.customer === undefined || r.customer === target.customer),
    );
    if (index === -1) return undefined;
    const rule = this.rules[index];
    rule.remaining -= 1;
    if (rule.remaining === 0) this.rules.splice(index, 1);
    return declineByCode(rule.declineCode);
  }

  clear(): void {
    this.rules.length = 0;
  }
}
