// Message types are versioned by name: a breaking change adds a new type instead of changing this one.

export interface PayoutInput {
  organizationId: string;
  partyId: string;
  /** yyyy-mm in the organization's time zone; a month that has ended. */
  period: string;
}

export interface PayoutResult {
  statementId: string;
  currency: string;
  /** What the statement pays out; '0' when its balance carries to the next month. */
  payoutAmount: string;
  carriedOut: string;
  payoutId: string | null;
  method: 'transfer' | 'bank_export' | null;
  status: 'pending' | 'paid' | 'failed' | 'none';
  providerTransferId: string | null;
}

/**
 * `payout:<party_id>:<yyyy-mm>`: the workflow id, and the idempotency key of the month's transfer, so the
 * business key alone decides that a party is paid at most once a month.
 */
export function payoutWorkflowId(partyId: string, period: string): string {
  return `payout:${partyId}:${period}`;
}
