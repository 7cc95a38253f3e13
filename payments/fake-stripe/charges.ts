// Charges, held in memory. On Stripe a confirmed PaymentIntent makes a Charge (uncaptured while the hold
// stands, failed when declined); captures, refunds and disputes are booked against it. Reconciliation reads
// Stripe's side through charges and their balance transactions, so the fake keeps them like Stripe does.
import { type FormObject } from './form-body';
import { type Clock, stripeId } from './ids';
import { expansions, LIST_PARAMS, listPage, type ListPage } from './lists';
import { optionalString, rejectUnknown } from './params';
import { type FakePaymentIntent } from './payment-intents';
import { noSuchObject } from './stripe-error';

type FeatureStatus = 'available' | 'unavailable';

/** `payment_method_details.card`: where Stripe reports the hold's deadline and what the card offers. */
export interface FakeCardDetails {
  brand: string;
  last4: string;
  funding: string;
  country: string;
  exp_month: number;
  exp_year: number;
  network: string;
  /** Manual capture only: the unix time the hold must be captured before. */
  capture_before?: number;
  incremental_authorization: { status: FeatureStatus };
  multicapture: { status: FeatureStatus };
  overcapture: { status: FeatureStatus; maximum_amount_capturable: number };
  extended_authorization: { status: 'enabled' | 'disabled' };
}

export interface FakeCharge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  balance_transaction: string | null;
  captured: boolean;
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  disputed: boolean;
  failure_code: string | null;
  failure_message: string | null;
  livemode: false;
  metadata: Record<string, string>;
  outcome: { type: 'authorized' | 'issuer_declined'; reason: string | null; seller_message: string };
  paid: boolean;
  payment_intent: string;
  payment_method: string | null;
  payment_method_details: { type: 'card'; card: FakeCardDetails };
  /** True once everything captured has been refunded. */
  refunded: boolean;
  status: 'succeeded' | 'failed';
}

const listParams = new Set([...LIST_PARAMS, 'customer', 'payment_intent', 'transfer_group']);
const retrieveParams = new Set(['expand']);

/** A copy, so neither HTTP clients nor test code can reach into the stored state. */
function snapshot(charge: FakeCharge): FakeCharge {
  return structuredClone(charge);
}

export class ChargeStore {
  private readonly charges = new Map<string, FakeCharge>();

  constructor(private readonly clock: Clock) {}

  get(id: string): FakeCharge | undefined {
    const charge = this.charges.get(id);
    return charge && snapshot(charge);
  }

  all(): FakeCharge[] {
    return [...this.charges.values()].map(snapshot);
  }

  clear(): void {
    this.charges.clear();
  }

  /**
   * The charge a confirmation made: failed when the intent carries a decline, otherwise a successful
   * authorization that is not captured yet (automatic capture books it right after, as on Stripe).
   */
  confirm(intent: FakePaymentIntent, paymentMethod: string, card: FakeCardDetails): FakeCharge {
    const decline = intent.last_payment_error;
    const charge: FakeCharge = {
      id: stripeId('ch'),
      object: 'charge',
      amount: intent.amount,
      amount_captured: 0,
      amount_refunded: 0,
      balance_transaction: null,
      captured: false,
      created: this.clock(),
      currency: intent.currency,
      customer: intent.customer,
      description: intent.description,
      disputed: false,
      failure_code: decline ? decline.code : null,
      failure_message: decline ? decline.message : null,
      livemode: false,
      metadata: { ...intent.metadata },
      outcome: decline
        ? {
            type: 'issuer_declined',
            reason: decline.decline_code,
            seller_message: 'The bank declined the payment.',
          }
        : { type: 'authorized', reason: null, seller_message: 'Payment complete.' },
      paid: !decline,
      payment_intent: intent.id,
      payment_method: paymentMethod,
      payment_method_details: { type: 'card', card: structuredClone(card) },
      refunded: false,
      status: decline ? 'failed' : 'succeeded',
    };
    this.charges.set(charge.id, charge);
    return snapshot(charge);
  }

  /** `amountCaptured` is the running total: a hold captured in parts books each part on the same charge. */
  capture(id: string, amountCaptured: number, balanceTransaction: string | null): FakeCharge {
    const charge = this.find(id);
    charge.captured = true;
    charge.amount_captured = amountCaptured;
    charge.balance_transaction ??= balanceTransaction;
    return snapshot(charge);
  }

  /** An incremental authorization raised the hold. */
  authorizeMore(id: string, amount: number): FakeCharge {
    const charge = this.find(id);
    charge.amount = amount;
    const { overcapture } = charge.payment_method_details.card;
    overcapture.maximum_amount_capturable = Math.max(overcapture.maximum_amount_capturable, amount);
    return snapshot(charge);
  }

  setCaptureBefore(id: string, captureBefore: number): FakeCharge {
    const charge = this.find(id);
    charge.payment_method_details.card.capture_before = captureBefore;
    return snapshot(charge);
  }

  refund(id: string, amount: number): FakeCharge {
    const charge = this.find(id);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded >= charge.amount_captured;
    return snapshot(charge);
  }

  markDisputed(id: string): FakeCharge {
    const charge = this.find(id);
    charge.disputed = true;
    return snapshot(charge);
  }

  list(params: FormObject): ListPage<FakeCharge> {
    rejectUnknown(params, listParams);
    expansions(params, []);
    const intent = optionalString(params, 'payment_intent');
    const customer = optionalString(params, 'customer');
    const group = optionalString(params, 'transfer_group');
    const page = listPage(this.charges.values(), params, {
      url: '/v1/charges',
      kind: 'charge',
      filter: (c) =>
        (!intent || c.payment_intent === intent) &&
        (!customer || c.customer === customer) &&
        // The fake makes no charges with a transfer group.
        group === undefined,
    });
    return { ...page, data: page.data.map(snapshot) };
  }

  retrieve(id: string, params: FormObject): FakeCharge {
    rejectUnknown(params, retrieveParams);
    expansions(params, []);
    return snapshot(this.find(id));
  }

  private find(id: string): FakeCharge {
    const charge = this.charges.get(id);
    if (!charge) throw noSuchObject('charge', id, 'charge');
    return charge;
  }
}
