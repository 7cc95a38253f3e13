// Stripe objects to the provider-records shapes. Input is read as untyped JSON and every field is checked:
// a webhook body is only as well-formed as its sender, and a signed but broken payload must fail with a
// message naming the field, not a TypeError deep in billing code.
import {
  type ProviderBalanceTransaction,
  type ProviderDispute,
  type ProviderPayment,
  type ProviderRefund,
} from './provider-records';

type Json = Record<string, unknown>;

export function malformed(what: string, problem: string): Error {
  return new Error(`Malformed Stripe ${what}: ${problem}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

export function asObject(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(what, `expected an object, got ${describe(value)}`);
  }
  return value as Json;
}

export function text(o: Json, key: string, what: string): string {
  const value = o[key];
  if (typeof value !== 'string' || value === '') {
    throw malformed(what, `${key} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function optionalText(o: Json, key: string, what: string): string | null {
  const value = o[key];
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw malformed(what, `${key} must be a string, got ${describe(value)}`);
  return value;
}

export function integer(o: Json, key: string, what: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw malformed(what, `${key} must be an integer, got ${describe(value)}`);
  }
  return value;
}

/** Unix seconds, as Stripe sends every time, to an ISO string. */
export function isoTime(o: Json, key: string, what: string): string {
  const seconds = integer(o, key, what);
  return new Date(seconds * 1000).toISOString();
}

/** An id field Stripe may send as the id or, when expanded, as the object; null when absent. */
function reference(o: Json, key: string, what: string): string | null {
  const value = o[key];
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  return text(asObject(value, `${what}.${key}`), 'id', `${what}.${key}`);
}

/** The object behind a reference when it was expanded, else undefined. */
function expanded(o: Json, key: string): Json | undefined {
  const value = o[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function metadata(o: Json, what: string): Record<string, string> {
  const value = o.metadata;
  if (value === undefined || value === null) return {};
  const entries = Object.entries(asObject(value, `${what}.metadata`));
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string') throw malformed(what, `metadata.${key} must be a string`);
  }
  return Object.fromEntries(entries as [string, string][]);
}

export function toPayment(value: unknown, what = 'payment_intent'): ProviderPayment {
  const pi = asObject(value, what);
  return {
    paymentId: text(pi, 'id', what),
    chargeId: reference(pi, 'latest_charge', what),
    status: text(pi, 'status', what),
    amountMinor: integer(pi, 'amount', what),
    amountCapturedMinor: integer(pi, 'amount_received', what),
    currency: text(pi, 'currency', what),
    created: isoTime(pi, 'created', what),
    metadata: metadata(pi, what),
  };
}

const refundStatuses = ['succeeded', 'pending', 'failed', 'canceled'] as const;

export function toRefund(value: unknown, what = 'refund'): ProviderRefund {
  const r = asObject(value, what);
  const status = text(r, 'status', what);
  // A refund made by charge on a charge without a PaymentIntent names only the charge; ours never do.
  const paymentId = reference(r, 'payment_intent', what) ?? reference(r, 'charge', what);
  if (!paymentId) throw malformed(what, 'neither payment_intent nor charge is set');
  return {
    refundId: text(r, 'id', what),
    paymentId,
    amountMinor: integer(r, 'amount', what),
    currency: text(r, 'currency', what),
    // `requires_action` and any status newer than this code are not final yet: pending.
    status: (refundStatuses as readonly string[]).includes(status)
      ? (status as ProviderRefund['status'])
      : 'pending',
    reason: optionalText(r, 'reason', what),
    created: isoTime(r, 'created', what),
    metadata: metadata(r, what),
  };
}

/**
 * Stripe sets `payment_intent` on disputes of PaymentIntent charges (every charge this platform makes). It is
 * null for a charge made without one: then the charge's own payment_intent when the charge was expanded, and
 * otherwise the charge id, so the record still names what was disputed.
 */
export function toDispute(value: unknown, what = 'dispute'): ProviderDispute {
  const d = asObject(value, what);
  const chargeId = reference(d, 'charge', what);
  if (!chargeId) throw malformed(what, 'charge is missing');
  const charge = expanded(d, 'charge');
  const paymentId =
    reference(d, 'payment_intent', what) ??
    (charge ? reference(charge, 'payment_intent', `${what}.charge`) : null) ??
    chargeId;
  return {
    disputeId: text(d, 'id', what),
    paymentId,
    chargeId,
    amountMinor: integer(d, 'amount', what),
    currency: text(d, 'currency', what),
    status: text(d, 'status', what),
    reason: text(d, 'reason', what),
    created: isoTime(d, 'created', what),
  };
}

/** The payment behind an expanded balance-transaction source (a charge, refund or dispute), when it has one. */
function sourcePayment(source: Json | undefined, what: string): string | null {
  if (!source) return null;
  switch (source.object) {
    case 'charge':
    case 'refund':
      return reference(source, 'payment_intent', what);
    case 'dispute': {
      const charge = expanded(source, 'charge');
      return (
        reference(source, 'payment_intent', what) ??
        (charge ? reference(charge, 'payment_intent', `${what}.charge`) : null)
      );
    }
    default:
      return null;
  }
}

export function toBalanceTransaction(
  value: unknown,
  what = 'balance_transaction',
): ProviderBalanceTransaction {
  const t = asObject(value, what);
  const status = text(t, 'status', what);
  return {
    id: text(t, 'id', what),
    type: text(t, 'type', what),
    sourceId: reference(t, 'source', what),
    paymentId: sourcePayment(expanded(t, 'source'), `${what}.source`),
    amountMinor: integer(t, 'amount', what),
    feeMinor: integer(t, 'fee', what),
    netMinor: integer(t, 'net', what),
    currency: text(t, 'currency', what),
    // Stripe has only these two today; anything else is not spendable yet.
    status: status === 'available' ? 'available' : 'pending',
    created: isoTime(t, 'created', what),
    availableOn: isoTime(t, 'available_on', what),
  };
}

/** The refunds a charge carries when Stripe embedded them (older API versions, or `expand[]=refunds`). */
export function embeddedRefunds(charge: Json, what: string): ProviderRefund[] {
  const list = expanded(charge, 'refunds');
  if (!list) return [];
  const data = list.data;
  if (!Array.isArray(data)) throw malformed(what, 'refunds.data must be an array');
  return data.map((r, i) => toRefund(r, `${what}.refunds.data[${i}]`));
}

export function chargeReference(charge: Json, what: string): { chargeId: string; paymentId: string } {
  const chargeId = text(charge, 'id', what);
  // As for disputes: a charge without a PaymentIntent is named by itself.
  return { chargeId, paymentId: reference(charge, 'payment_intent', what) ?? chargeId };
}
