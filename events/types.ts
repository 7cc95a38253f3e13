// The accounting events the platform emits, and the version of each payload. A payload changes shape only
// under a new version; receivers read `version` before `data`. The shapes are documented in
// docs/webhooks/events.schema.json.

export const EVENT_TYPES = [
  'session.started',
  'session.completed',
  'receipt.issued',
  'payment.authorized',
  'payment.captured',
  'payment.failed',
  'payment.canceled',
  'refund.created',
  'dispute.opened',
  'dispute.closed',
  'exemption.requested',
  'exemption.approved',
  'exemption.rejected',
  'credit_note.issued',
  'invoice.issued',
  'invoice.paid',
  'invoice.voided',
  'payout.created',
  'payout.paid',
  'allowance.reset',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_VERSION = 1;

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** What a receiver gets: one event, Stripe-style. `data.object` is the object after the change. */
export interface EventEnvelope {
  id: string;
  object: 'event';
  type: EventType;
  version: number;
  created: string;
  organization_id: string;
  data: { object_type: string; object_id: string; object: Record<string, unknown> };
}
