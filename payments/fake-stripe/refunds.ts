// Refunds against captured PaymentIntents, held in memory. The running total per intent is kept here as
// well as on the charge, so the checks below need nothing but the intent store; the ledger books each refund.
import { type FormObject } from './form-body';
import { type Clock, stripeId } from './ids';
import { LIST_PARAMS, listPage, type ListPage } from './lists';
import { type FakePaymentIntent } from './payment-intents';
import {
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalMetadata,
  optionalString,
  optionalStringList,
  rejectUnknown,
} from './params';
import { invalidParam, invalidState, noSuchObject } from './stripe-error';

const refundReasons = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

export interface FakeRefund {
  id: string;
  object: 'refund';
  amount: number;
  balance_transaction: string | null;
  charge: string | null;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: (typeof refundReasons)[number] | null;
  receipt_number: string | null;
  source_transfer_reversal: string | null;
  /** Card refunds on Stripe succeed at once; the fake models no others. */
  status: 'succeeded';
  transfer_reversal: string | null;
}

// Accepted but not modelled, as in payment-intents.ts. `charge` is left out on purpose: refunds here go by
// PaymentIntent only, so a refund by charge is refused as unknown rather than silently misapplied.
const createParams = new Set([
  'payment_intent',
  'amount',
  'reason',
  'metadata',
  'expand',
  'instructions_email',
  'refund_application_fee',
  'reverse_transfer',
]);
const retrieveParams = new Set(['expand']);
const listParams = new Set([...LIST_PARAMS, 'charge', 'payment_intent']);

export interface RefundStoreDeps {
  clock: Clock;
  /** Reads intents through the intent store's copies; refunds never change an intent. */
  findIntent: (id: string) => FakePaymentIntent | undefined;
  /** Books the refund on its charge and the balance; returns the balance transaction's id. */
  booked: (refund: FakeRefund) => string;
}

/** A copy, so neither HTTP clients nor test code can reach into the stored state. */
function snapshot(refund: FakeRefund): FakeRefund {
  return structuredClone(refund);
}

export class RefundStore {
  private readonly refunds = new Map<string, FakeRefund>();
  private readonly refundedByIntent = new Map<string, number>();

  constructor(private readonly deps: RefundStoreDeps) {}

  get(id: string): FakeRefund | undefined {
    const refund = this.refunds.get(id);
    return refund && snapshot(refund);
  }

  all(): FakeRefund[] {
    return [...this.refunds.values()].map(snapshot);
  }

  /** What has been refunded so far on an intent, in minor units. */
  refundedAmount(paymentIntentId: string): number {
    return this.refundedByIntent.get(paymentIntentId) ?? 0;
  }

  clear(): void {
    this.refunds.clear();
    this.refundedByIntent.clear();
  }

  create(params: FormObject): FakeRefund {
    rejectUnknown(params, createParams);
    const intentId = optionalString(params, 'payment_intent');
    if (!intentId) {
      throw invalidParam('Missing required param: payment_intent.', {
        code: 'parameter_missing',
        param: 'payment_intent',
      });
    }
    const requested = optionalInteger(params, 'amount');
    if (requested !== undefined && requested < 1) {
      throw invalidParam('Refund amount must be at least 1 in minor units.', {
        code: 'amount_too_small',
        param: 'amount',
      });
    }
    const reason = optionalEnum(params, 'reason', refundReasons);
    const metadata = optionalMetadata(params);
    optionalStringList(params, 'expand');
    optionalString(params, 'instructions_email');
    optionalBoolean(params, 'refund_application_fee');
    optionalBoolean(params, 'reverse_transfer');

    const intent = this.deps.findIntent(intentId);
    if (!intent) throw noSuchObject('payment_intent', intentId, 'payment_intent');
    if (intent.status !== 'succeeded' || intent.amount_received < 1) {
      throw invalidState(
        `This PaymentIntent (${intent.id}) does not have a successful charge to refund: it has a status of ` +
          `${intent.status}. A PaymentIntent that was not captured is canceled, not refunded.`,
        { code: 'charge_not_refundable', param: 'payment_intent' },
      );
    }
    const remaining = intent.amount_received - this.refundedAmount(intent.id);
    if (remaining === 0) {
      throw invalidState(`Charge ${intent.latest_charge ?? intent.id} has already been refunded.`, {
        code: 'charge_already_refunded',
        param: 'payment_intent',
      });
    }
    const amount = requested ?? remaining;
    if (amount > remaining) {
      throw invalidState(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining}).`,
        { code: 'amount_too_large', param: 'amount' },
      );
    }

    const refund: FakeRefund = {
      id: stripeId('re'),
      object: 'refund',
      amount,
      balance_transaction: null,
      charge: intent.latest_charge,
      created: this.deps.clock(),
      currency: intent.currency,
      metadata: metadata ?? {},
      payment_intent: intent.id,
      reason: reason ?? null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    };
    this.refunds.set(refund.id, refund);
    this.refundedByIntent.set(intent.id, this.refundedAmount(intent.id) + amount);
    refund.balance_transaction = this.deps.booked(snapshot(refund));
    return snapshot(refund);
  }

  list(params: FormObject): ListPage<FakeRefund> {
    rejectUnknown(params, listParams);
    optionalStringList(params, 'expand');
    const charge = optionalString(params, 'charge');
    const intent = optionalString(params, 'payment_intent');
    const page = listPage(this.refunds.values(), params, {
      url: '/v1/refunds',
      kind: 'refund',
      filter: (r) => (!charge || r.charge === charge) && (!intent || r.payment_intent === intent),
    });
    return { ...page, data: page.data.map(snapshot) };
  }

  retrieve(id: string, params: FormObject): FakeRefund {
    rejectUnknown(params, retrieveParams);
    const refund = this.refunds.get(id);
    if (!refund) throw noSuchObject('refund', id, 'refund');
    return snapshot(refund);
  }
}
