// The account's ledger as Stripe reports it: one balance transaction per capture, refund and dispute
// movement, with Stripe's fee and the net that reaches the balance. This is what payouts and reconciliation
// are made of, so amounts, fees and nets follow Stripe's signs and the fee schedule exactly.
import { type FormObject } from './form-body';
import { type Clock, stripeId } from './ids';
import { expansions, LIST_PARAMS, listPage, type ListPage } from './lists';
import { optionalString, rejectUnknown } from './params';
import { noSuchObject } from './stripe-error';

export type BalanceTransactionType = 'charge' | 'refund' | 'adjustment' | 'transfer';

export interface FeeDetail {
  amount: number;
  application: null;
  currency: string;
  description: string;
  type: 'stripe_fee';
}

export interface FakeBalanceTransaction {
  id: string;
  object: 'balance_transaction';
  amount: number;
  available_on: number;
  balance_type: 'payments';
  created: number;
  currency: string;
  description: string | null;
  exchange_rate: null;
  fee: number;
  fee_details: FeeDetail[];
  net: number;
  reporting_category: 'charge' | 'refund' | 'dispute' | 'dispute_reversal' | 'transfer';
  /** The charge, refund, dispute or transfer booked; an object when the request expanded it. */
  source: string | object | null;
  /** Derived from available_on and the fake's clock whenever the transaction is read. */
  status: 'available' | 'pending';
  type: BalanceTransactionType;
}

export interface Booking {
  type: BalanceTransactionType;
  reportingCategory: FakeBalanceTransaction['reporting_category'];
  source: string;
  /** Signed: positive adds to the balance. */
  amount: number;
  currency: string;
  fee: number;
  feeDescription?: string;
  description: string | null;
  /** Seconds after `created` until the money is available (Stripe holds card payments for a few days). */
  holdSeconds?: number;
}

/** Finds a charge, refund, dispute or transfer by id, for `expand[]=data.source`. */
export type SourceResolver = (id: string) => object | undefined;

const listParams = new Set([...LIST_PARAMS, 'type', 'source', 'currency']);
const retrieveParams = new Set(['expand']);

export class BalanceTransactionStore {
  private readonly transactions = new Map<string, FakeBalanceTransaction>();

  constructor(
    private readonly clock: Clock,
    private readonly resolveSource: SourceResolver,
  ) {}

  get(id: string): FakeBalanceTransaction | undefined {
    const txn = this.transactions.get(id);
    return txn && this.snapshot(txn);
  }

  all(): FakeBalanceTransaction[] {
    return [...this.transactions.values()].map((t) => this.snapshot(t));
  }

  clear(): void {
    this.transactions.clear();
  }

  book(b: Booking): FakeBalanceTransaction {
    const created = this.clock();
    const txn: FakeBalanceTransaction = {
      id: stripeId('txn'),
      object: 'balance_transaction',
      amount: b.amount,
      available_on: created + (b.holdSeconds ?? 0),
      balance_type: 'payments',
      created,
      currency: b.currency,
      description: b.description,
      exchange_rate: null,
      fee: b.fee,
      fee_details:
        b.fee === 0
          ? []
          : [
              {
                amount: b.fee,
                application: null,
                currency: b.currency,
                description: b.feeDescription ?? 'Stripe processing fees',
                type: 'stripe_fee',
              },
            ],
      net: b.amount - b.fee,
      reporting_category: b.reportingCategory,
      source: b.source,
      status: 'pending',
      type: b.type,
    };
    this.transactions.set(txn.id, txn);
    return this.snapshot(txn);
  }

  list(params: FormObject): ListPage<FakeBalanceTransaction> {
    rejectUnknown(params, listParams);
    const expandSource = expansions(params, ['data.source']).length > 0;
    const type = optionalString(params, 'type');
    const source = optionalString(params, 'source');
    const currency = optionalString(params, 'currency')?.toLowerCase();
    const page = listPage(this.transactions.values(), params, {
      url: '/v1/balance_transactions',
      kind: 'balance_transaction',
      filter: (t) =>
        (!type || t.type === type) &&
        (!source || t.source === source) &&
        (!currency || t.currency === currency),
    });
    return { ...page, data: page.data.map((t) => this.snapshot(t, expandSource)) };
  }

  retrieve(id: string, params: FormObject): FakeBalanceTransaction {
    rejectUnknown(params, retrieveParams);
    const expandSource = expansions(params, ['source']).length > 0;
    const txn = this.transactions.get(id);
    if (!txn) throw noSuchObject('balance_transaction', id, 'id');
    return this.snapshot(txn, expandSource);
  }

  /** A copy with the status as of the fake's clock, and the source expanded when asked. */
  private snapshot(txn: FakeBalanceTransaction, expandSource = false): FakeBalanceTransaction {
    const copy = structuredClone(txn);
    copy.status = copy.available_on <= this.clock() ? 'available' : 'pending';
    if (expandSource && typeof copy.source === 'string')
      copy.source = this.resolveSource(copy.source) ?? copy.source;
    return copy;
  }
}
