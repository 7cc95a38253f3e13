// Disputes (chargebacks), held in memory. Stripe has no API to open one, so tests and the local platform
// open and close them through the fake's control routes; everything else (the dispute object, its balance
// transactions, the events) follows Stripe's shapes so reconciliation sees what it would see in production.
import { type FakeBalanceTransaction } from './balance-transactions';
import { type FormObject } from './form-body';
import { type Clock, stripeId } from './ids';
import { expansions, LIST_PARAMS, listPage, type ListPage } from './lists';
import { optionalString, rejectUnknown } from './params';
import { invalidState, noSuchObject } from './stripe-error';

export const disputeReasons = [
  'bank_cannot_process',
  'credit_not_processed',
  'customer_initiated',
  'debit_not_authorized',
  'duplicate',
  'fraudulent',
  'general',
  'incorrect_account_details',
  'insufficient_funds',
  'noncompliant',
  'product_not_received',
  'product_unacceptable',
  'subscription_canceled',
  'unrecognized',
] as const;

export type DisputeReason = (typeof disputeReasons)[number];
export type DisputeStatus = 'needs_response' | 'under_review' | 'won' | 'lost';

export interface FakeDispute {
  id: string;
  object: 'dispute';
  amount: number;
  /** Embedded in full, as Stripe does: the withdrawal, and the reinstatement when the dispute was won. */
  balance_transactions: FakeBalanceTransaction[];
  charge: string;
  created: number;
  currency: string;
  evidence_details: { due_by: number; has_evidence: false; past_due: false; submission_count: 0 };
  is_charge_refundable: false;
  livemode: false;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: DisputeReason;
  status: DisputeStatus;
}

interface StoredDispute extends Omit<FakeDispute, 'balance_transactions'> {
  balanceTransactionIds: string[];
}

const listParams = new Set([...LIST_PARAMS, 'charge', 'payment_intent']);
const retrieveParams = new Set(['expand']);
// Stripe gives the merchant about three weeks to answer a dispute.
const RESPONSE_WINDOW_SECONDS = 21 * 24 * 3600;

export class DisputeStore {
  private readonly disputes = new Map<string, StoredDispute>();

  constructor(
    private readonly clock: Clock,
    private readonly findTransaction: (id: string) => FakeBalanceTransaction | undefined,
  ) {}

  get(id: string): FakeDispute | undefined {
    const dispute = this.disputes.get(id);
    return dispute && this.snapshot(dispute);
  }

  all(): FakeDispute[] {
    return [...this.disputes.values()].map((d) => this.snapshot(d));
  }

  clear(): void {
    this.disputes.clear();
  }

  /** The id a new dispute will get, so its withdrawal can be booked before the dispute is stored. */
  newId(): string {
    return stripeId('dp');
  }

  open(d: {
    id: string;
    charge: string;
    paymentIntent: string;
    amount: number;
    currency: string;
    reason: DisputeReason;
    balanceTransaction: string;
  }): FakeDispute {
    const created = this.clock();
    const dispute: StoredDispute = {
      id: d.id,
      object: 'dispute',
      amount: d.amount,
      balanceTransactionIds: [d.balanceTransaction],
      charge: d.charge,
      created,
      currency: d.currency,
      evidence_details: {
        due_by: created + RESPONSE_WINDOW_SECONDS,
        has_evidence: false,
        past_due: false,
        submission_count: 0,
      },
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      payment_intent: d.paymentIntent,
      reason: d.reason,
      status: 'needs_response',
    };
    this.disputes.set(dispute.id, dispute);
    return this.snapshot(dispute);
  }

  /** The open dispute itself (a copy), or a 400 naming why it cannot be closed. */
  openDispute(id: string): FakeDispute {
    const dispute = this.find(id);
    if (dispute.status === 'won' || dispute.status === 'lost') {
      throw invalidState(`Dispute ${id} is already closed with status ${dispute.status}.`, {
        code: 'dispute_already_closed',
      });
    }
    return this.snapshot(dispute);
  }

  close(id: string, status: 'won' | 'lost', balanceTransaction?: string): FakeDispute {
    const dispute = this.find(id);
    dispute.status = status;
    if (balanceTransaction) dispute.balanceTransactionIds.push(balanceTransaction);
    return this.snapshot(dispute);
  }

  forCharge(chargeId: string): FakeDispute | undefined {
    const dispute = [...this.disputes.values()].find((d) => d.charge === chargeId);
    return dispute && this.snapshot(dispute);
  }

  list(params: FormObject): ListPage<FakeDispute> {
    rejectUnknown(params, listParams);
    expansions(params, []);
    const charge = optionalString(params, 'charge');
    const intent = optionalString(params, 'payment_intent');
    const page = listPage(this.disputes.values(), params, {
      url: '/v1/disputes',
      kind: 'dispute',
      filter: (d) => (!charge || d.charge === charge) && (!intent || d.payment_intent === intent),
    });
    return { ...page, data: page.data.map((d) => this.snapshot(d)) };
  }

  retrieve(id: string, params: FormObject): FakeDispute {
    rejectUnknown(params, retrieveParams);
    expansions(params, []);
    return this.snapshot(this.find(id));
  }

  private find(id: string): StoredDispute {
    const dispute = this.disputes.get(id);
    if (!dispute) throw noSuchObject('dispute', id, 'dispute');
    return dispute;
  }

  private snapshot(stored: StoredDispute): FakeDispute {
    const { balanceTransactionIds, ...rest } = structuredClone(stored);
    const balance_transactions = balanceTransactionIds
      .map((id) => this.findTransaction(id))
      .filter((t): t is FakeBalanceTransaction => t !== undefined);
    return { ...rest, balance_transactions };
  }
}
