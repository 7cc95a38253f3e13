// Message types are versioned by name: a breaking change adds a new type instead of changing this one.

export interface InvoiceCloseInput {
  organizationId: string;
  /** yyyy-mm in the organization's time zone. */
  period: string;
  /**
   * Not issued before this instant (ISO 8601): the period's end plus a grace time for late sessions from
   * offline charge points. A backfill of a long-past period passes a past instant and closes at once.
   */
  notBefore: string;
}

export interface InvoiceCloseResult {
  invoiceId: string;
  number: string | null;
  status: 'draft' | 'issued' | 'paid' | 'void';
}

export function invoiceCloseWorkflowId(organizationId: string, period: string): string {
  return `invoice-close:${organizationId}:${period}`;
}
