// The PaymentIntent state machine, held in memory. This is the part stripe-mock cannot give us: a capture
// here really moves an intent to `succeeded`, so authorize -> capture -> cancel flows can be asserted.
import { type FormObject } from './form-body';
import { type Clock, stripeId } from './ids';
import { LIST_PARAMS, listPage, type ListPage } from './lists';
import {
  optionalBoolean,
  optionalEnum,
  optionalHash,
  optionalInteger,
  optionalMetadata,
  optionalString,
  optionalStringList,
  rejectUnknown,
} from './params';
import { FakeStripeError, invalidParam, invalidState, noSuchObject } from './stripe-error';
import { authenticationDecline, type CardDecline, declineFor, needsAuthentication } from './test-cards';

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
  payment_method_types: string[];
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
const retrieveParams = new Set(['expand', 'client_secret']);
const listParams = new Set([...LIST_PARAMS, 'customer']);

const cancelableStatuses: PaymentIntentStatus[] = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
];

// Stripe's ceiling for a single charge in most currencies (eight digits of minor units).
const MAX_AMOUNT = 99_999_999;

/** What the rest of the fake (charges, balance, events) learns about an intent's life. */
export interface IntentListener {
  /** A confirmation reached the card: records its charge (failed when declined) and returns the charge id. */
  charged(intent: FakePaymentIntent, paymentMethod: string): string;
  /** The intent reached a state Stripe announces; `intent` is its final state. */
  changed(intent: FakePaymentIntent, change: 'declined' | 'captured' | 'canceled'): void;
}

/** A copy, so neither HTTP clients nor test code can reach into the stored state. */
function snapshot(intent: FakePaymentIntent): FakePaymentIntent {
  return structuredClone(intent);
}

export class PaymentIntentStore {
  // Map iteration order is insertion order, which is creation order; lists are served newest first.
  private readonly intents = new Map<string, FakePaymentIntent>();

  constructor(
    private readonly clock: Clock,
    private readonly listener: IntentListener,
  ) {}

  get(id: string): FakePaymentIntent | undefined {
    const intent = this.intents.get(id);
    return intent && snapshot(intent);
  }

  all(): FakePaymentIntent[] {
    return [...this.intents.values()].map(snapshot);
  }

  clear(): void {
    this.intents.clear();
  }

  create(params: FormObject): FakePaymentIntent {
    rejectUnknown(params, createParams);
    const amount = optionalInteger(params, 'amount');
    if (amount === undefined) {
      throw invalidParam('Missing required param: amount.', { code: 'parameter_missing', param: 'amount' });
    }
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
    const currency = optionalString(params, 'currency');
    if (currency === undefined) {
      throw invalidParam('Missing required param: currency.', {
        code: 'parameter_missing',
        param: 'currency',
      });
    }
    if (!/^[a-zA-Z]{3}$/.test(currency)) {
      throw invalidParam(`Invalid currency: ${currency.slice(0, 20)}.`, { param: 'currency' });
    }
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
    optionalStringList(params, 'expand');

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
      payment_method_types: methodTypes ?? ['card'],
      status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    };

    if (!confirm) {
      this.intents.set(id, intent);
      return snapshot(intent);
    }
    if (!paymentMethod) {
      throw invalidParam(
        "You cannot confirm this PaymentIntent because it's missing a payment method. Pass payment_method.",
        { code: 'parameter_missing', param: 'payment_method' },
      );
    }
    this.intents.set(id, intent);
    this.confirm(intent, paymentMethod, offSession);
    return snapshot(intent);
  }

  retrieve(id: string, params: FormObject): FakePaymentIntent {
    rejectUnknown(params, retrieveParams);
    return snapshot(this.find(id));
  }

  list(params: FormObject): ListPage<FakePaymentIntent> {
    rejectUnknown(params, listParams);
    const customer = optionalString(params, 'customer');
    const page = listPage(this.intents.values(), params, {
      url: '/v1/payment_intents',
      kind: 'payment_intent',
      filter: (pi) => !customer || pi.customer === customer,
    });
    return { ...page, data: page.data.map(snapshot) };
  }

  capture(id: string, params: FormObject): FakePaymentIntent {
    rejectUnknown(params, captureParams);
    const amountToCapture = optionalInteger(params, 'amount_to_capture');
    const metadata = optionalMetadata(params);
    optionalBoolean(params, 'final_capture');
    const intent = this.find(id);
    if (intent.status !== 'requires_capture') {
      throw invalidState(
        `This PaymentIntent could not be captured because it has a status of ${intent.status}. ` +
          'Only a PaymentIntent with one of the following statuses may be captured: requires_capture.',
        { code: 'payment_intent_unexpected_state', payment_intent: snapshot(intent) },
      );
    }
    const amount = amountToCapture ?? intent.amount_capturable;
    if (amount < 1) {
      // Releasing the whole hold is a cancel; Stripe refuses a zero capture.
      throw invalidParam('amount_to_capture must be at least 1.', {
        code: 'parameter_invalid_integer',
        param: 'amount_to_capture',
      });
    }
    if (amount > intent.amount_capturable) {
      throw invalidState(
        `The amount to capture (${amount}) is greater than the amount capturable (${intent.amount_capturable}).`,
        { code: 'amount_too_large', param: 'amount_to_capture', payment_intent: snapshot(intent) },
      );
    }
    // A partial capture releases the rest of the hold: there is no second capture on a card intent.
    intent.amount_received = amount;
    intent.amount_capturable = 0;
    intent.status = 'succeeded';
    if (metadata) Object.assign(intent.metadata, metadata);
    this.listener.changed(snapshot(intent), 'captured');
    return snapshot(intent);
  }

  cancel(id: string, params: FormObject): FakePaymentIntent {
    rejectUnknown(params, cancelParams);
    const reason = optionalEnum(params, 'cancellation_reason', cancellationReasons);
    const intent = this.find(id);
    if (!cancelableStatuses.includes(intent.status)) {
      throw invalidState(
        `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. ` +
          `Only a PaymentIntent with one of the following statuses may be canceled: ${cancelableStatuses.join(', ')}.`,
        { code: 'payment_intent_unexpected_state', payment_intent: snapshot(intent) },
      );
    }
    intent.status = 'canceled';
    intent.amount_capturable = 0;
    intent.canceled_at = this.clock();
    intent.cancellation_reason = reason ?? null;
    intent.next_action = null;
    this.listener.changed(snapshot(intent), 'canceled');
    return snapshot(intent);
  }

  private find(id: string): FakePaymentIntent {
    const intent = this.intents.get(id);
    if (!intent) throw noSuchObject('payment_intent', id, 'intent');
    return intent;
  }

  private confirm(intent: FakePaymentIntent, paymentMethod: string, offSession: boolean): void {
    if (needsAuthentication(paymentMethod)) {
      if (offSession) {
        this.decline(intent, paymentMethod, authenticationDecline);
      }
      intent.status = 'requires_action';
      intent.next_action = { type: 'use_stripe_sdk' };
      return;
    }
    const decline = declineFor(paymentMethod);
    if (decline) this.decline(intent, paymentMethod, decline);
    if (intent.capture_method === 'manual') {
      intent.status = 'requires_capture';
      intent.amount_capturable = intent.amount;
    } else {
      intent.status = 'succeeded';
      intent.amount_received = intent.amount;
    }
    intent.latest_charge = this.listener.charged(snapshot(intent), paymentMethod);
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
    const charge = this.listener.charged(snapshot(intent), paymentMethod);
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
}
