import type { Knex } from 'knex';
import type {
  PlatformCapture,
  PlatformDelivery,
  PlatformDispute,
  PlatformRefund,
} from '../../payments/reconciliation-model';

// Our side of a reconciliation: captures (session payments, invoices charged to the saved card, differences,
// debts and wallet top-ups charged off-session), refunds,
// disputes and the deliveries of their accounting events. Read by time window first, then by the provider's
// ids that the window did not bring (a refund today of a payment captured last month).

export interface Window {
  from: Date;
  to: Date;
}

const CHUNK = 1000;

async function inChunks<T>(ids: string[], read: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(...(await read(ids.slice(i, i + CHUNK))));
  return out;
}

interface CaptureRow {
  id: string;
  provider_payment_id: string;
  status: string;
  amount: string;
  currency: string;
  captured_at: Date | null;
}

const toCapture = (r: CaptureRow): PlatformCapture => ({
  id: r.id,
  providerPaymentId: r.provider_payment_id,
  status: r.status,
  amount: r.amount,
  currency: r.currency,
  capturedAt: r.captured_at,
});

// Rows migrated before captured_at existed carry the time of their last change.
const CAPTURED_AT = 'coalesce(captured_at, updated_at)';

function sessionPayments(db: Knex, organizationId: string): Knex.QueryBuilder {
  return db('payments')
    .where({ organization_id: organizationId })
    .whereNotNull('provider_payment_id')
    .select(
      'id',
      'provider_payment_id',
      'status',
      'currency',
      db.raw('amount_captured as amount'),
      db.raw(`case when status = 'captured' then ${CAPTURED_AT} end as captured_at`),
    );
}

/** An invoice paid by card holds its PaymentIntent id as the payment reference. */
function invoicePayments(db: Knex, organizationId: string): Knex.QueryBuilder {
  return db('invoices')
    .where({ organization_id: organizationId, payment_method: 'card' })
    .whereNotNull('payment_reference')
    .whereNotNull('paid_at')
    .select(
      'id',
      db.raw('payment_reference as provider_payment_id'),
      db.raw("'captured' as status"),
      'currency',
      db.raw('amount_payable as amount'),
      db.raw('paid_at as captured_at'),
    );
}

/**
 * Charges that are not a session's hold: the difference above a hold charged off-session, a debt paid, a
 * wallet top-up. Each is a PaymentIntent of its own, recorded as a movement with the provider's id.
 */
function chargedMovements(db: Knex, organizationId: string): Knex.QueryBuilder {
  return db('payment_movements')
    .where({ organization_id: organizationId, status: 'succeeded' })
    .whereIn('kind', ['off_session_charge', 'debt_payment', 'wallet_top_up'])
    .whereNotNull('provider_reference')
    .select(
      'id',
      db.raw('provider_reference as provider_payment_id'),
      db.raw("'captured' as status"),
      'currency',
      'amount',
      db.raw('created_at as captured_at'),
    );
}

export async function capturesIn(db: Knex, organizationId: string, w: Window): Promise<PlatformCapture[]> {
  const payments: CaptureRow[] = await sessionPayments(db, organizationId)
    .where({ status: 'captured' })
    .whereRaw(`${CAPTURED_AT} >= ? and ${CAPTURED_AT} < ?`, [w.from, w.to]);
  const invoices: CaptureRow[] = await invoicePayments(db, organizationId)
    .where('paid_at', '>=', w.from)
    .where('paid_at', '<', w.to);
  const charges: CaptureRow[] = await chargedMovements(db, organizationId)
    .where('created_at', '>=', w.from)
    .where('created_at', '<', w.to);
  return [...payments, ...invoices, ...charges].map(toCapture);
}

/** When the earliest hold behind a capture in the window was placed: the provider dates a payment by it. */
export async function earliestHoldOfCaptures(
  db: Knex,
  organizationId: string,
  w: Window,
): Promise<Date | null> {
  const row = await db('payments')
    .where({ organization_id: organizationId, status: 'captured' })
    .whereRaw(`${CAPTURED_AT} >= ? and ${CAPTURED_AT} < ?`, [w.from, w.to])
    .min<{ min: Date | null }>('created_at as min')
    .first();
  return row?.min ?? null;
}

export async function capturesByProviderIds(
  db: Knex,
  organizationId: string,
  providerPaymentIds: string[],
): Promise<PlatformCapture[]> {
  const rows = await inChunks<CaptureRow>(providerPaymentIds, async (ids) => [
    ...(await sessionPayments(db, organizationId).whereIn('provider_payment_id', ids)),
    ...(await invoicePayments(db, organizationId).whereIn('payment_reference', ids)),
    ...(await chargedMovements(db, organizationId).whereIn('provider_reference', ids)),
  ]);
  return rows.map(toCapture);
}

function refunds(db: Knex, organizationId: string): Knex.QueryBuilder {
  return db('refunds as r')
    .join('payments as p', 'p.id', 'r.payment_id')
    .where('r.organization_id', organizationId)
    .select(
      'r.id',
      'r.provider_refund_id',
      'p.provider_payment_id',
      'r.amount',
      'r.currency',
      'r.status',
      'r.created_at',
    );
}

const toRefund = (r: Record<string, never>): PlatformRefund => ({
  id: r.id,
  providerRefundId: r.provider_refund_id,
  providerPaymentId: r.provider_payment_id,
  amount: r.amount,
  currency: r.currency,
  status: r.status,
  createdAt: r.created_at,
});

export async function refundsFor(
  db: Knex,
  organizationId: string,
  w: Window,
  providerRefundIds: string[],
): Promise<PlatformRefund[]> {
  const rows = [
    ...(await refunds(db, organizationId)
      .where('r.created_at', '>=', w.from)
      .where('r.created_at', '<', w.to)),
    ...(await inChunks(providerRefundIds, (ids) =>
      refunds(db, organizationId).whereIn('r.provider_refund_id', ids),
    )),
  ];
  return dedupe(rows.map(toRefund));
}

function disputes(db: Knex, organizationId: string): Knex.QueryBuilder {
  return db('disputes as d')
    .join('payments as p', 'p.id', 'd.payment_id')
    .where('d.organization_id', organizationId)
    .select(
      'd.id',
      'd.provider_dispute_id',
      'p.provider_payment_id',
      'd.amount',
      'd.currency',
      'd.status',
      'd.opened_at',
      'd.closed_at',
    );
}

const toDispute = (r: Record<string, never>): PlatformDispute => ({
  id: r.id,
  providerDisputeId: r.provider_dispute_id,
  providerPaymentId: r.provider_payment_id,
  amount: r.amount,
  currency: r.currency,
  status: r.status,
  openedAt: r.opened_at,
  closedAt: r.closed_at,
});

export async function disputesFor(
  db: Knex,
  organizationId: string,
  w: Window,
  providerDisputeIds: string[],
): Promise<PlatformDispute[]> {
  const rows = [
    ...(await disputes(db, organizationId).where((q) =>
      q
        .where((o) => o.where('d.opened_at', '>=', w.from).where('d.opened_at', '<', w.to))
        .orWhere((c) => c.where('d.closed_at', '>=', w.from).where('d.closed_at', '<', w.to)),
    )),
    ...(await inChunks(providerDisputeIds, (ids) =>
      disputes(db, organizationId).whereIn('d.provider_dispute_id', ids),
    )),
  ];
  return dedupe(rows.map(toDispute));
}

// The accounting event of each kind of money movement reconciliation checks the delivery of.
const EVENT_TYPES = ['payment.captured', 'invoice.paid', 'refund.created'];

/** Deliveries of the captures' and refunds' accounting events (objects by our ids). */
export async function deliveriesOf(
  db: Knex,
  organizationId: string,
  objectIds: string[],
): Promise<PlatformDelivery[]> {
  const rows = await inChunks(objectIds, (ids) =>
    db('webhook_deliveries as w')
      .join('outbox as o', 'o.id', 'w.event_id')
      .join('webhook_endpoints as e', 'e.id', 'w.endpoint_id')
      .where('o.organization_id', organizationId)
      .whereIn('o.type', EVENT_TYPES)
      .whereIn('o.object_id', ids)
      .select('w.id', 'o.object_id', 'o.type', 'e.status as endpoint_status', 'w.status', 'w.created_at'),
  );
  return rows.map((r) => ({
    id: r.id,
    objectId: r.object_id,
    eventType: r.type,
    endpointEnabled: r.endpoint_status === 'enabled',
    status: r.status,
    createdAt: r.created_at,
  }));
}

function dedupe<T extends { id: string }>(rows: T[]): T[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}
