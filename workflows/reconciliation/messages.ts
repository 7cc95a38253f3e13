// Message types are versioned by name: a breaking change adds a new type instead of changing this one.

export interface ReconciliationInput {
  organizationId: string;
  /** Local dates (YYYY-MM-DD) in the organization's time zone: the report covers [from, to). */
  from: string;
  to: string;
  /**
   * Settlement lag: provider records are matched this far around the range, and what one side lacks is
   * reported only once this long has passed since it happened.
   */
  lagSeconds: number;
  /** Not reconciled before this instant (ISO 8601); the schedule passes the range's end plus the lag. */
  notBefore?: string;
}

export interface DailyReconciliationInput {
  organizationId: string;
  lagSeconds: number;
}

export interface ReconciliationResult {
  reportId: string;
  from: string;
  to: string;
  status: 'clean' | 'differences';
  currency: string;
  differenceCount: number;
  /** What one side lacks but the lag still excuses. */
  deferredCount: number;
  /** Decimal strings in the report's currency. */
  totals: {
    grossRevenue: string;
    refunds: string;
    processingFees: string;
    disputes: string;
    disputeFees: string;
    otherFees: string;
    netSettled: string;
  };
}

/** Two hours: a daily run at 03:00 finds the day before complete on both sides. */
export const DEFAULT_RECONCILIATION_LAG_SECONDS = 2 * 3600;

export function reconciliationWorkflowId(organizationId: string, from: string, to: string): string {
  return `reconciliation:${organizationId}:${from}:${to}`;
}

/** The BillingPeriod search attribute: the day, or `from..to` (to exclusive, as in the workflow id). */
export function reconciliationPeriod(from: string, to: string): string {
  const next = new Date(Date.parse(`${from}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return next === to ? from : `${from}..${to}`;
}
