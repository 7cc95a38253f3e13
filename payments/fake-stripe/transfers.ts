// Stripe Connect transfers to connected accounts, held in memory. The fake has no platform balance and no
// account objects: any well-formed `acct_...` is a connected account, and the balance never runs out.
import { type FormObject } from './form-body';
import { type Clock, stripeId } from './ids';
import {
  optionalMetadata,
  optionalString,
  optionalStringList,
  rejectUnknown,
  requiredAmount,
  requiredCurrency,
} from './params';
import { invalidParam, noSuchObject } from './stripe-error';

export interface FakeTransfer {
  id: string;
  object: 'transfer';
  amount: number;
  amount_reversed: number;
  balance_transaction: string;
  created: number;
  currency: string;
  description: string | null;
  destination: string;
  destination_payment: string;
  livemode: false;
  metadata: Record<string, string>;
  reversals: { object: 'list'; data: never[]; has_more: false; total_count: 0; url: string };
  reversed: false;
  source_transaction: string | null;
  source_type: 'card';
  transfer_group: string | null;
}

// Accepted but not modelled, as in payment-intents.ts.
const createParams = new Set([
  'amount',
  'currency',
  'destination',
  'description',
  'metadata',
  'expand',
  'source_transaction',
  'source_type',
  'transfer_group',
]);
const retrieveParams = new Set(['expand']);

// Stripe account ids: `acct_` and an alphanumeric tail.
const ACCOUNT_ID = /^acct_[A-Za-z0-9]+$/;

/** A copy, so neither HTTP clients nor test code can reach into the stored state. */
function snapshot(transfer: FakeTransfer): FakeTransfer {
  return structuredClone(transfer);
}

export class TransferStore {
  private readonly transfers = new Map<string, FakeTransfer>();

  constructor(
    private readonly clock: Clock,
    /** Books the transfer out of the balance; returns the balance transaction's id. */
    private readonly booked: (transfer: FakeTransfer) => string,
  ) {}

  get(id: string): FakeTransfer | undefined {
    const transfer = this.transfers.get(id);
    return transfer && snapshot(transfer);
  }

  all(): FakeTransfer[] {
    return [...this.transfers.values()].map(snapshot);
  }

  clear(): void {
    this.transfers.clear();
  }

  create(params: FormObject): FakeTransfer {
    rejectUnknown(params, createParams);
    const amount = requiredAmount(params);
    if (amount < 1) {
      throw invalidParam('This value must be greater than or equal to 1.', {
        code: 'amount_too_small',
        param: 'amount',
      });
    }
    const currency = requiredCurrency(params);
    const destination = optionalString(params, 'destination');
    if (!destination) {
      throw invalidParam('Missing required param: destination.', {
        code: 'parameter_missing',
        param: 'destination',
      });
    }
    // Stripe answers an id that names no connected account with a 400 naming the parameter.
    if (!ACCOUNT_ID.test(destination)) {
      throw invalidParam(`No such destination: '${destination.slice(0, 100)}'`, {
        code: 'resource_missing',
        param: 'destination',
      });
    }
    const metadata = optionalMetadata(params);
    const description = optionalString(params, 'description') ?? null;
    const transferGroup = optionalString(params, 'transfer_group') ?? null;
    const sourceTransaction = optionalString(params, 'source_transaction') ?? null;
    optionalString(params, 'source_type');
    optionalStringList(params, 'expand');

    const id = stripeId('tr');
    const transfer: FakeTransfer = {
      id,
      object: 'transfer',
      amount,
      amount_reversed: 0,
      balance_transaction: '',
      created: this.clock(),
      currency: currency.toLowerCase(),
      description,
      destination,
      destination_payment: stripeId('py'),
      livemode: false,
      metadata: metadata ?? {},
      reversals: {
        object: 'list',
        data: [],
        has_more: false,
        total_count: 0,
        url: `/v1/transfers/${id}/reversals`,
      },
      reversed: false,
      source_transaction: sourceTransaction,
      source_type: 'card',
      transfer_group: transferGroup,
    };
    transfer.balance_transaction = this.booked(snapshot(transfer));
    this.transfers.set(id, transfer);
    return snapshot(transfer);
  }

  retrieve(id: string, params: FormObject): FakeTransfer {
    rejectUnknown(params, retrieveParams);
    const transfer = this.transfers.get(id);
    if (!transfer) throw noSuchObject('transfer', id, 'transfer');
    return snapshot(transfer);
  }
}
