// The records reconciliation compares, and what it answers. Amounts on our side are decimal strings (numeric
// columns); the provider's are integer minor units (provider-records.ts). Currencies are upper-case here.

import type {
  ProviderBalanceTransaction,
  ProviderDispute,
  ProviderPayment,
  ProviderRefund,
} from './provider-records';

export const DIFFERENCE_KINDS = [
  'missing_capture',
  'amount_mismatch',
  'refund_not_recorded',
  'dispute',
  'fee',
  'webhook_undelivered',
  'other_currency',
] as const;
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/** The side that lacks the record: `platform` (only the provider has it) or `provider` (only we have it). */
export type Side = 'platform' | 'provider';

/** Money we took: a session's payment (`pay_`), or an invoice charged to the saved card (`inv_`). */
export interface PlatformCapture {
  id: string;
  providerPaymentId: string;
  /** Our record's status; only `captured` counts as a capture. */
  status: string;
  amount: string;
  currency: string;
  capturedAt: Date | null;
}

export interface PlatformRefund {
  id: string;
  providerRefundId: string;
  providerPaymentId: string;
  amount: string;
  currency: string;
  status: string;
  createdAt: Date;
}

export interface PlatformDispute {
  id: string;
  providerDisputeId: string;
  providerPaymentId: string;
  amount: string;
  currency: string;
  status: string;
  openedAt: Date;
  closedAt: Date | null;
}

/** A delivery of the accounting event of a capture or refund (`objectId` is ours: pay_, inv_ or re_). */
export interface PlatformDelivery {
  id: string;
  objectId: string;
  eventType: string;
  endpointEnabled: boolean;
  status: 'pending' | 'delivered' | 'failed';
  createdAt: Date;
}

export interface ReconciliationInput {
  organizationId: string;
  /** The report's currency (the organization's); anything else is an `other_currency` difference. */
  currency: string;
  /** Local midnights of the first day and of the day after the last. */
  range: { from: Date; to: Date };
  /** How long the provider may take to show what we recorded, or an endpoint to take a delivery. */
  lagMs: number;
  asOf: Date;
  platform: {
    captures: PlatformCapture[];
    refunds: PlatformRefund[];
    disputes: PlatformDispute[];
    deliveries: PlatformDelivery[];
  };
  provider: {
    payments: ProviderPayment[];
    refunds: ProviderRefund[];
    disputes: ProviderDispute[];
    balanceTransactions: ProviderBalanceTransaction[];
  };
}

export interface Difference {
  kind: DifferenceKind;
  side: Side | null;
  paymentId: string | null;
  providerPaymentId: string | null;
  refundId: string | null;
  providerRefundId: string | null;
  disputeId: string | null;
  providerDisputeId: string | null;
  balanceTransactionId: string | null;
  platformAmount: string | null;
  providerAmount: string | null;
  currency: string;
  occurredAt: Date;
  detail: string;
}

/** Decimal strings in the report's currency. */
export interface ReconciliationTotals {
  /** Our captures: session payments and invoices paid by card. */
  grossRevenue: string;
  /** Our refunds (not failed or canceled). */
  refunds: string;
  /** Fees on the charges' balance transactions. */
  processingFees: string;
  /** Disputed amounts of disputes opened in the range. */
  disputes: string;
  disputeFees: string;
  /** Fees that are neither processing nor dispute fees (fees on refunds, stray fee entries). */
  otherFees: string;
  /** The net of the organization's balance transactions in the range: what settles to the bank. */
  netSettled: string;
}

export interface ReconciliationResult {
  currency: string;
  differences: Difference[];
  totals: ReconciliationTotals;
  /** Our captures and refunds the provider does not show yet, within the lag: reported by a later run. */
  deferredCount: number;
}
