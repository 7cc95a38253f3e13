// Where money movements meet: a PaymentIntent's life becomes charges, balance transactions and events, and
// so do refunds, transfers and disputes. Keeping it in one place keeps the books consistent: every capture
// has exactly one charge transaction with the scheduled fee, every refund one negative transaction, and so on.
import { BalanceTransactionStore } from './balance-transactions';
import { type FakeCardDetails, type FakeCharge, ChargeStore } from './charges';
import { type DisputeReason, disputeReasons, DisputeStore, type FakeDispute } from './disputes';
import { type FakeEventType } from './events';
import { type FeeSchedule, processingFee } from './fees';
import { type Clock } from './ids';
import { type FakePaymentIntent, type IntentListener } from './payment-intents';
import { type FakeRefund } from './refunds';
import { invalidParam, invalidState, noSuchObject } from './stripe-error';
import { type FakeTransfer } from './transfers';

export interface DisputeRequest {
  paymentIntent: string;
  /** Default: everything captured on the charge. */
  amount?: number;
  /** Default `general`. */
  reason?: DisputeReason;
}

export interface LedgerDeps {
  clock: Clock;
  fees: FeeSchedule;
  emit: (type: FakeEventType, object: object) => void;
  findIntent: (id: string) => FakePaymentIntent | undefined;
  findRefund: (id: string) => FakeRefund | undefined;
  findTransfer: (id: string) => FakeTransfer | undefined;
}

// Stripe holds card payments for a couple of days before they become available for payout.
const CARD_HOLD_SECONDS = 2 * 24 * 3600;

export class Ledger implements IntentListener {
  readonly charges: ChargeStore;
  readonly balance: BalanceTransactionStore;
  readonly disputes: DisputeStore;

  constructor(private readonly deps: LedgerDeps) {
    this.charges = new ChargeStore(deps.clock);
    this.balance = new BalanceTransactionStore(deps.clock, (id) => this.source(id));
    this.disputes = new DisputeStore(deps.clock, (id) => this.balance.get(id));
  }

  clear(): void {
    this.charges.clear();
    this.balance.clear();
    this.disputes.clear();
  }

  charged(intent: FakePaymentIntent, paymentMethod: string, card: FakeCardDetails): string {
    return this.charges.confirm(intent, paymentMethod, card).id;
  }

  charge(id: string): FakeCharge | undefined {
    return this.charges.get(id);
  }

  setCaptureBefore(chargeId: string, captureBefore: number): void {
    this.charges.setCaptureBefore(chargeId, captureBefore);
  }

  changed(intent: FakePaymentIntent, change: 'declined' | 'captured' | 'canceled' | 'incremented'): void {
    if (change === 'declined') {
      this.deps.emit('payment_intent.payment_failed', intent);
      return;
    }
    if (change === 'canceled') {
      this.deps.emit('payment_intent.canceled', intent);
      return;
    }
    const chargeId = intent.latest_charge;
    if (!chargeId) throw new Error(`fake stripe: ${change} intent ${intent.id} has no charge`);
    if (change === 'incremented') {
      this.charges.authorizeMore(chargeId, intent.amount);
      this.deps.emit('payment_intent.amount_capturable_updated', intent);
      return;
    }
    // Each capture books what it added; a hold captured in parts has one transaction per part.
    const captured = this.charges.get(chargeId)?.amount_captured ?? 0;
    const amount = intent.amount_received - captured;
    let txnId: string | null = null;
    if (amount > 0) {
      txnId = this.balance.book({
        type: 'charge',
        reportingCategory: 'charge',
        source: chargeId,
        amount,
        currency: intent.currency,
        fee: processingFee(amount, this.deps.fees),
        description: intent.description,
        holdSeconds: CARD_HOLD_SECONDS,
      }).id;
    }
    this.charges.capture(chargeId, intent.amount_received, txnId);
    const final = intent.status === 'succeeded';
    this.deps.emit(final ? 'payment_intent.succeeded' : 'payment_intent.amount_capturable_updated', intent);
  }

  /** Books a refund: a negative balance transaction without fee, and the refunded total on its charge. */
  refunded(refund: FakeRefund): string {
    const txn = this.balance.book({
      type: 'refund',
      reportingCategory: 'refund',
      source: refund.id,
      amount: -refund.amount,
      currency: refund.currency,
      fee: 0,
      description: `REFUND FOR CHARGE (${refund.charge ?? refund.payment_intent})`,
    });
    if (refund.charge) {
      // Current API versions no longer embed the refunds in the charge; receivers list them.
      this.deps.emit('charge.refunded', this.charges.refund(refund.charge, refund.amount));
    }
    return txn.id;
  }

  transferred(transfer: FakeTransfer): string {
    return this.balance.book({
      type: 'transfer',
      reportingCategory: 'transfer',
      source: transfer.id,
      amount: -transfer.amount,
      currency: transfer.currency,
      fee: 0,
      description: transfer.description,
    }).id;
  }

  /** Opens a dispute on an intent's captured charge: the amount and the dispute fee leave the balance. */
  openDispute(req: DisputeRequest): FakeDispute {
    const intent = this.deps.findIntent(req.paymentIntent);
    if (!intent) throw noSuchObject('payment_intent', req.paymentIntent, 'payment_intent');
    const charge = intent.latest_charge ? this.charges.get(intent.latest_charge) : undefined;
    if (!charge || !charge.captured) {
      throw invalidState(`PaymentIntent ${intent.id} has no captured charge that could be disputed.`, {
        param: 'payment_intent',
      });
    }
    if (charge.disputed) {
      throw invalidState(`Charge ${charge.id} is already disputed.`, { code: 'charge_disputed' });
    }
    const amount = req.amount ?? charge.amount_captured;
    if (!Number.isSafeInteger(amount) || amount < 1 || amount > charge.amount_captured) {
      throw invalidParam(`amount must be an integer from 1 to ${charge.amount_captured}.`, {
        param: 'amount',
      });
    }
    const reason = req.reason ?? 'general';
    if (!disputeReasons.includes(reason)) {
      throw invalidParam(`reason must be one of ${disputeReasons.join(', ')}.`, { param: 'reason' });
    }
    const id = this.disputes.newId();
    const withdrawal = this.balance.book({
      type: 'adjustment',
      reportingCategory: 'dispute',
      source: id,
      amount: -amount,
      currency: charge.currency,
      fee: this.deps.fees.disputeMinor,
      feeDescription: 'Dispute fee',
      description: `Chargeback withdrawal for ${charge.id}`,
    });
    this.charges.markDisputed(charge.id);
    const dispute = this.disputes.open({
      id,
      charge: charge.id,
      paymentIntent: intent.id,
      amount,
      currency: charge.currency,
      reason,
      balanceTransaction: withdrawal.id,
    });
    this.deps.emit('charge.dispute.created', dispute);
    return dispute;
  }

  /** Closes a dispute; when won, the disputed amount comes back (the dispute fee does not). */
  closeDispute(id: string, status: 'won' | 'lost'): FakeDispute {
    if (status !== 'won' && status !== 'lost') {
      throw invalidParam('status must be won or lost.', { param: 'status' });
    }
    const open = this.disputes.openDispute(id);
    let reinstatement: string | undefined;
    if (status === 'won') {
      reinstatement = this.balance.book({
        type: 'adjustment',
        reportingCategory: 'dispute_reversal',
        source: id,
        amount: open.amount,
        currency: open.currency,
        fee: 0,
        description: `Chargeback reversal for ${open.charge}`,
      }).id;
    }
    const dispute = this.disputes.close(id, status, reinstatement);
    this.deps.emit('charge.dispute.closed', dispute);
    return dispute;
  }

  /** The object a balance transaction books, by its id's prefix. */
  private source(id: string): object | undefined {
    if (id.startsWith('ch_')) return this.charges.get(id);
    if (id.startsWith('re_')) return this.deps.findRefund(id);
    if (id.startsWith('dp_')) return this.disputes.get(id);
    if (id.startsWith('tr_')) return this.deps.findTransfer(id);
    return undefined;
  }
}
