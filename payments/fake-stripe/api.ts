// The fake's handle and options: what tests, benchmarks and bin/fake-stripe.ts program against.
import { type Logger } from '../../config/logger';
import { type FakeBalanceTransaction } from './balance-transactions';
import { type FakeCharge } from './charges';
import { type DeclineRule } from './declines';
import { type DisputeReason, type FakeDispute } from './disputes';
import { type FakeEventRecord, type WebhookDelivery } from './events';
import { type FailureRule, type FakeOperation } from './failure-injection';
import { type FeeSchedule } from './fees';
import { type LatencyOption } from './latency';
import { type FakePaymentIntent } from './payment-intents';
import { type FakeRefund } from './refunds';
import { type FakeTransfer } from './transfers';
import { type WebhookEndpoint, type WebhookRetryOptions } from './webhooks';

export interface FakeStripeOptions {
  /** 0 (the default) picks a free port, which is what tests want. */
  port?: number;
  host?: string;
  logger?: Logger;
  /** Where events are POSTed, signed with `secret`; none are sent without it (see setWebhookEndpoint). */
  webhook?: WebhookEndpoint;
  webhookRetry?: WebhookRetryOptions;
  /** Processing and dispute fees; default 1.4 % + 25 minor units per capture, 1500 per dispute. */
  fees?: Partial<FeeSchedule>;
  /**
   * How long a hold lasts before it must be captured (`capture_before` on its charge); default 7 days, as
   * for most online card authorizations on Stripe. See also setHoldLifetime and expireHold.
   */
  holdLifetimeMs?: number;
  /**
   * How long every API reply takes, in milliseconds: `{ min, max }` draws each reply's time uniformly from
   * the range (a real provider answers in roughly 100-300 ms), a number is a fixed time; default 0. The fake
   * acts at once and holds the reply back; the test-only /_fake routes always answer at once. See setLatency.
   */
  latencyMs?: LatencyOption;
}

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey?: string;
  status: number;
  replayed: boolean;
  /**
   * The money-moving call this was (see FakeOperation), which the path alone does not tell: a hold and an
   * off-session charge are both `POST /v1/payment_intents`. Absent for reads and other calls.
   */
  operation?: FakeOperation;
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
  charge(id: string): FakeCharge | undefined;
  /** Every charge (one per confirmation, failed ones included), oldest first. */
  listCharges(): FakeCharge[];
  balanceTransaction(id: string): FakeBalanceTransaction | undefined;
  /** Every balance transaction, oldest first, with its status as of the fake's clock. */
  listBalanceTransactions(): FakeBalanceTransaction[];
  dispute(id: string): FakeDispute | undefined;
  listDisputes(): FakeDispute[];
  /**
   * A cardholder disputes an intent's captured charge (also `POST /_fake/disputes`): the amount (default:
   * all captured) and the dispute fee leave the balance, and `charge.dispute.created` is sent.
   */
  createDispute(req: { paymentIntent: string; amount?: number; reason?: DisputeReason }): FakeDispute;
  /** The bank decides (also `POST /_fake/disputes/{id}/close`); won gives the amount back. */
  closeDispute(id: string, status: 'won' | 'lost'): FakeDispute;
  /** Every event emitted, oldest first, with how its webhook delivery went. */
  events(): FakeEventRecord[];
  /**
   * Delivers an event again, same id and body, as Stripe does when it retries or you resend from the
   * Dashboard (also `POST /_fake/events/{id}/resend`). Resolves with the delivery once it settled.
   */
  resendEvent(id: string): Promise<WebhookDelivery>;
  /** Events from now on go to `url`, signed with `secret`. */
  setWebhookEndpoint(url: string, secret: string): void;
  removeWebhookEndpoint(): void;
  /** Resolves once no webhook delivery is under way (retries included). */
  webhooksIdle(): Promise<void>;
  /** Objects and events made from now on get this `created` time; undefined goes back to the real clock. */
  setNow(at: Date | undefined): void;
  /**
   * The next matching requests fail at the HTTP level before the fake acts (5xx, 429), or act and answer
   * late (status < 400 with `delayMs`, a timeout on the client). `operation` targets a kind of call,
   * `paymentIntent` one intent's capture, increment or cancel.
   */
  failNext(rule: FailureRule): void;
  /**
   * The card network declines the next matching hold, increment or off-session charge (also
   * `POST /_fake/declines` with on, payment_intent, payment_method, customer, decline_code, count).
   */
  declineNext(rule: DeclineRule): void;
  /**
   * A hold's deadline becomes now (also `POST /_fake/payment_intents/{id}/expire`): the next capture fails
   * with charge_expired_for_capture and the intent is canceled (`payment_intent.canceled`); any other request
   * naming it finds it canceled.
   */
  expireHold(paymentIntentId: string): FakePaymentIntent;
  /** Holds placed from now on last this long; undefined restores the start option (also `/_fake/hold_lifetime`). */
  setHoldLifetime(ms: number | undefined): void;
  /**
   * API replies from now on take this long (see FakeStripeOptions.latencyMs; 0 turns latency off);
   * undefined restores the start option (also `POST /_fake/latency` with min_ms and max_ms).
   */
  setLatency(latency: LatencyOption | undefined): void;
  /** Increment attempts made on an intent so far, declines included (Stripe allows 10). */
  incrementAttempts(paymentIntentId: string): number;
  /** Every request handled so far, in the order the fake acted on them: what actually went over the wire. */
  requests(): RecordedRequest[];
  /**
   * Forgets every object, event, idempotency key, failure and decline rule and recorded request, abandons
   * webhook deliveries under way, and goes back to the real clock and the webhook endpoint, hold lifetime
   * and latency it was started with.
   */
  reset(): void;
}
