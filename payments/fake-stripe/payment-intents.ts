// The PaymentIntent state machine, held in memory. This is the part stripe-mock cannot give us: a capture
// here really moves an intent to `succeeded`, so authorize -> increment -> capture -> cancel flows, and a
// hold that expires at its deadline, can be asserted.
import { captureHold, expireIfDue } from './captures';
import { type FakeCardDetails, type FakeCharge } from './charges';
import { type DeclineOperation, type DeclineScript } from './declines';
import { type FormObject } from './form-body';
import { cardDetails } from './holds';
import { type Clock, stripeId } from './ids';
import {
  type IncrementContext,
  incrementHold,
  IncrementLog,
  incrementParams,
  MAX_AMOUNT,
} from './increments';
import { expansions, LIST_PARAMS, listPage, type ListPage } from './lists';
import {
  optionalBoolean,
  optionalEnum,
  optionalHash,
  optionalMetadata,
  optionalString,
  optionalStringList,
  rejectUnknown,
  requiredAmount,
  requiredCurrency,
} from './params';
import {
  cardOptions,
  type CardOptions,
  type SetupFutureUsage,
  setupFutureUsage,
} from './payment-method-options';
import { FakeStripeError, invalidParam, invalidState, noSuchObject } from './stripe-error';
import {
  authenticationDecline,
  type CardDecline,
  declineFor,
  needsAuthentication,
  offSessionDeclineFor,
} from './test-cards';

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

const captureMethods = ['automatic', 'automatic_async', 'manual'] as const;
const cancellationReasons = ['abandoned', 'duplicate', 'fraudulent', 'requested_by_customer'] as const;

export interface FakePaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  automatic_payment_methods: { enabled: boolean; allow_redirects?: string } | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: (typeof captureMethods)[number];
  client_secret: string;
  confirmation_method: 'automatic';
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  last_payment_error: {
    type: 'card_error';
    code: string;
    decline_code: string;
    message: string;
    payment_method: { id: string; object: 'payment_method' };
  } | null;
  latest_charge: string | null;
  livemode: false;
  metadata: Record<string, string>;
  next_action: { type: string } | null;
  payment_method: string | null;
  payment_method_options: { card?: CardOptions };
  payment_method_types: string[];
  setup_future_usage: SetupFutureUsage | null;
  status: PaymentIntentStatus;
}

// Parameters the fake accepts but does not model. Listing them keeps the unknown-parameter check useful
// (it catches typos) without refusing legitimate Stripe parameters other code may send.
const createParams = new Set([
  'amount',
  'currency',
  'capture_method',
  'confirm',
  'customer',
  'description',
  'metadata',
  'off_session',
  'payment_method',
  'payment_method_types',
  'automatic_payment_methods',
  'expand',
  'confirmation_method',
  'error_on_requires_action',
  'receipt_email',
  'return_url',
  'setup_future_usage',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'transfer_group',
  'payment_method_options',
  'mandate',
  'use_stripe_sdk',
]);
const captureParams = new Set([
  'amount_to_capture',
  'metadata',
  'expand',
  'final_capture',
  'statement_descriptor',
  'statement_descriptor_suffix',
]);
const cancelParams = new Set(['cancellation_reason', 'expand']);
const expandable = ['latest_charge'];
const retrieveParams = new Set(['expand', 'client_secret']);
const listParams = new Set([...LIST_PARAMS, 'customer']);

const cancelableStatuses: PaymentIntentStatus[] = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
];

/** What the rest of the fake (charges, balance, events) learns about an intent's life. */
export interface IntentListener {
  /** A confirmation reached the card: records its charge (failed when declined) and returns the charge id. */
  charged(intent: FakePaymentIntent, paymentMethod: string, card: FakeCardDetails): string;
  /**
   * The intent reached a state Stripe announces; `intent` is its new state. `captured` is also a partial
   * capture (the intent still requires_capture) and a hold that expired after partial captures.
   */
  changed(intent: FakePaymentIntent, change: 'declined' | 'captured' | 'canceled' | 'incremented'): void;
  charge(id: string): FakeCharge | undefined;
  setCaptureBefore(chargeId: string, captureBefore: number): void;
}

export interface IntentStoreDeps {
  clock: Clock;
  listener: IntentListener;
  declines: DeclineScript;
  /** Read at each confirmation, so a test can change it between holds. */
  holdLifetimeSeconds: () => number;
}

/** A copy, so neither HTTP clients nor test code can reach into the stored state. */
function snapshot(intent: FakePaymentIntent): FakePaymentIntent {
  return structuredClone(intent);
}

export class PaymentIntentStore {
  // Map iteration order is insertion order, which is creation order; lists are served newest first.
  private readonly intents = new Map<string, FakePaymentIntent>();
  private readonly increments = new IncrementLog();
  private readonly clock: Clock;
  private readonly listener: IntentListener;
  private readonly holds: IncrementContext;

  constructor(private readonly deps: IntentStoreDeps) {
    this.clock = deps.clock;
    this.listener = deps.listener;
    this.holds = {
      clock: deps.clock,
      listener: deps.listener,
      attempts: this.increments,
      find: (id) => this.find(id),
      card: (intent) => this.card(intent),
      scriptedDecline: (intent) => this.scriptedDecline('increment', intent, intent.payment_method),
    };
  }

  get(id: string): FakePaymentIntent | undefined {
    const intent = this.intents.get(id);
    return intent && snapshot(intent);
  }

  all(): FakePaymentIntent[] {
    return [...this.intents.values()].map(snapshot);
  }

  clear(): void {
    this.intents.clear();
    this.increments.clear();
  }

  incrementAttempts(id: string): number {
    return this.increments.count(id);
  }

  create(params: FormObject): object {
    rejectUnknown(params, createParams);
    const expand = expansions(params, expandable);
    const amount = requiredAmount(params);
    if (amount < 1) {
      throw invalidParam('Amount must be at least 1 in minor units.', {
        code: 'amount_too_small',
        param: 'amount',
      });
    }
    if (amount > MAX_AMOUNT) {
      throw invalidParam(`Amount must be no more than ${MAX_AMOUNT}.`, {
        code: 'amount_too_large',
        param: 'amount',
      });
    }
    const currency = requiredCurrency(params);
    const captureMethod = optionalEnum(params, 'capture_method', captureMethods) ?? 'automatic_async';
    const confirm = optionalBoolean(params, 'confirm') ?? false;
    const offSession = params.off_session === undefined ? false : params.off_session !== 'false';
    if (offSession) optionalEnum(params, 'off_session', ['true', 'one_off', 'recurring']);
    const paymentMethod = optionalString(params, 'payment_method') || null;
    if (paymentMethod !== null && !/^(pm|card|src)_[A-Za-z0-9_]+$/.test(paymentMethod)) {
      throw noSuchObject('PaymentMethod', paymentMethod.slice(0, 100), 'payment_method');
    }
    const customer = optionalString(params, 'customer') || null;
    if (customer !== null && !/^cus_[A-Za-z0-9_]+$/.test(customer)) {
      throw noSuchObject('customer', customer.slice(0, 100), 'customer');
    }
    const automatic = optionalHash(
      params,
      'automatic_payment_methods',
      new Set(['enabled', 'allow_redirects']),
    );
    const methodTypes = optionalStringList(params, 'payment_method_types');
    if (automatic) {
      optionalBoolean(automatic, 'enabled');
      optionalEnum(automatic, 'allow_redirects', ['always', 'never']);
    }
    const card = cardOptions(params);
    const futureUsage = setupFutureUsage(params);
    if (confirm && offSession && futureUsage) {
      // Stripe's rule: a payment method cannot be set up for later while nobody is there to agree to it.
      throw invalidParam(
        'You cannot confirm with the `off_session` parameter when `setup_future_usage` is also set on the ' +
          'PaymentIntent because you cannot set up future usages when processing payments off-session.',
        { param: 'off_session' },
      );
    }

    const id = stripeId('pi');
    const intent: FakePaymentIntent = {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods: methodTypes
        ? null
        : {
            enabled: automatic?.enabled !== 'false',
            ...(typeof automatic?.allow_redirects === 'string'
              ? { allow_redirects: automatic.allow_redirects }
              : {}),
          },
      canceled_at: null,
      cancellation_reason: null,
      capture_method: captureMethod,
      client_secret: `${id}_secret_${stripeId('s').slice(2)}`,
      confirmation_method: 'automatic',
      created: this.clock(),
      currency: currency.toLowerCase(),
      customer,
      description: optionalString(params, 'description') || null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: optionalMetadata(params) ?? {},
      next_action: null,
      payment_method: paymentMethod,
      payment_method_options: { card },
      payment_method_types: methodTypes ?? ['card'],
      setup_future_usage: futureUsage ?? null,
      status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    };

    if (!confirm) {
      this.intents.set(id, intent);
      return this.render(intent, expand);
    }
    if (!paymentMethod) {
      throw invalidParam(
        "You cannot confirm this PaymentIntent because it's missing a payment method. Pass payment_method.",
        { code: 'parameter_missing', param: 'payment_method' },
      );
    }
    this.intents.set(id, intent);
    this.confirm(intent, paymentMethod, offSession);
    return this.render(intent, expand);
  }

  retrieve(id: string, params: FormObject): object {
    rejectUnknown(params, retrieveParams);
    const expand = expansions(params, expandable);
    const intent = this.find(id);
    expireIfDue(intent, this.holds);
    return this.render(intent, expand);
  }

  list(params: FormObject): ListPage<FakePaymentIntent> {
    rejectUnknown(params, listParams);
    for (const intent of this.intents.values()) expireIfDue(intent, this.holds);
    const customer = optionalString(params, 'customer');
    const page = listPage(this.intents.values(), params, {
      url: '/v1/payment_intents',
      kind: 'payment_intent',
      filter: (pi) => !customer || pi.customer === customer,
    });
    return { ...page, data: page.data.map(snapshot) };
  }

  capture(id: string, params: FormObject): object {
    rejectUnknown(params, captureParams);
    const expand = expansions(params, expandable);
    return this.render(captureHold(id, params, this.holds), expand);
  }

  increment(id: string, params: FormObject): object {
    rejectUnknown(params, incrementParams);
    const expand = expansions(params, expandable);
    return this.render(incrementHold(id, params, this.holds), expand);
  }

  cancel(id: string, params: FormObject): object {
    rejectUnknown(params, cancelParams);
    const expand = expansions(params, expandable);
    const reason = optionalEnum(params, 'cancellation_reason', cancellationReasons);
    const intent = this.find(id);
    expireIfDue(intent, this.holds);
    if (!cancelableStatuses.includes(intent.status)) {
      throw invalidState(
        `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. ` +
          `Only a PaymentIntent with one of the following statuses may be canceled: ${cancelableStatuses.join(', ')}.`,
        { code: 'payment_intent_unexpected_state', payment_intent: snapshot(intent) },
      );
    }
    if (intent.amount_received > 0) {
      // What was captured in parts cannot be un-captured; the fake ends such a hold only by a final capture.
      throw invalidState(
        'You cannot cancel this PaymentIntent because part of it was captured; make a final capture instead.',
        { code: 'payment_intent_unexpected_state', payment_intent: snapshot(intent) },
      );
    }
    intent.status = 'canceled';
    intent.amount_capturable = 0;
    intent.canceled_at = this.clock();
    intent.cancellation_reason = reason ?? null;
    intent.next_action = null;
    this.listener.changed(snapshot(intent), 'canceled');
    return this.render(intent, expand);
  }

  /**
   * Moves a hold's deadline to now, as if it had been placed a hold-lifetime ago. Like Stripe's own sweep,
   * the release happens when the intent is next touched: a capture then fails with
   * charge_expired_for_capture, and any request naming it (or a list) finds it canceled.
   */
  expireHold(id: string): FakePaymentIntent {
    const intent = this.find(id);
    if (intent.status !== 'requires_capture' || !intent.latest_charge) {
      throw invalidState(
        `PaymentIntent ${id} is not holding funds (status ${intent.status}), so it has no hold to expire.`,
        { param: 'intent' },
      );
    }
    this.listener.setCaptureBefore(intent.latest_charge, this.clock());
    return snapshot(intent);
  }

  private card(intent: FakePaymentIntent): FakeCardDetails | undefined {
    const charge = intent.latest_charge ? this.listener.charge(intent.latest_charge) : undefined;
    return charge?.payment_method_details.card;
  }

  /** A copy, with `latest_charge` as the charge object when the request expanded it. */
  private render(intent: FakePaymentIntent, expand: string[]): object {
    const copy = snapshot(intent);
    if (!expand.includes('latest_charge') || !intent.latest_charge) return copy;
    return { ...copy, latest_charge: this.listener.charge(intent.latest_charge) ?? intent.latest_charge };
  }

  private scriptedDecline(
    on: DeclineOperation,
    intent: FakePaymentIntent,
    paymentMethod: string | null,
  ): CardDecline | undefined {
    return this.deps.declines.take(on, {
      paymentIntent: intent.id,
      paymentMethod,
      customer: intent.customer,
    });
  }

  private find(id: string): FakePaymentIntent {
    const intent = this.intents.get(id);
    if (!intent) throw noSuchObject('payment_intent', id, 'intent');
    return intent;
  }

  private confirm(intent: FakePaymentIntent, paymentMethod: string, offSession: boolean): void {
    // Charging a saved card later is an off-session payment captured at once; a hold is manual capture.
    const offSessionCharge = offSession && intent.capture_method !== 'manual';
    const scripted = this.scriptedDecline(
      offSessionCharge ? 'off_session' : 'authorize',
      intent,
      paymentMethod,
    );
    if (scripted) this.decline(intent, paymentMethod, scripted);
    if (needsAuthentication(paymentMethod)) {
      if (offSession) {
        this.decline(intent, paymentMethod, authenticationDecline);
      }
      intent.status = 'requires_action';
      intent.next_action = { type: 'use_stripe_sdk' };
      return;
    }
    const decline =
      declineFor(paymentMethod) ?? (offSessionCharge ? offSessionDeclineFor(paymentMethod) : undefined);
    if (decline) this.decline(intent, paymentMethod, decline);
    if (intent.capture_method === 'manual') {
      intent.status = 'requires_capture';
      intent.amount_capturable = intent.amount;
    } else {
      intent.status = 'succeeded';
      intent.amount_received = intent.amount;
    }
    intent.latest_charge = this.listener.charged(
      snapshot(intent),
      paymentMethod,
      this.cardDetails(intent, paymentMethod, false),
    );
    // Automatic capture: the charge is captured as it is made, and announced like a manual capture.
    if (intent.status === 'succeeded') this.listener.changed(snapshot(intent), 'captured');
  }

  /** The intent stays behind in requires_payment_method, as on Stripe, and the 402 carries it. */
  private decline(intent: FakePaymentIntent, paymentMethod: string, decline: CardDecline): never {
    intent.status = 'requires_payment_method';
    intent.payment_method = null;
    intent.last_payment_error = {
      type: 'card_error',
      ...decline,
      payment_method: { id: paymentMethod, object: 'payment_method' },
    };
    const charge = this.listener.charged(
      snapshot(intent),
      paymentMethod,
      this.cardDetails(intent, paymentMethod, true),
    );
    intent.latest_charge = charge;
    this.listener.changed(snapshot(intent), 'declined');
    throw new FakeStripeError(402, {
      type: 'card_error',
      ...decline,
      charge,
      doc_url: `https://stripe.com/docs/error-codes/${decline.code.replace(/_/g, '-')}`,
      payment_intent: snapshot(intent),
    });
  }

  private cardDetails(intent: FakePaymentIntent, paymentMethod: string, declined: boolean): FakeCardDetails {
    const lifetimeSeconds = this.deps.holdLifetimeSeconds();
    return cardDetails(intent, paymentMethod, { now: this.clock(), lifetimeSeconds, declined });
  }
}
