import type { Knex } from 'knex';
import type { PaymentRow } from './payments';
import type { ReceiptLineRow, ReceiptRow } from './receipts';
import type { SessionRow } from './sessions';
import { fetchPage, Page, PageRequest } from './pagination';

// Read side of a charging session for the API; the session workflow's activities own the writes (sessions.ts,
// receipts.ts, payments.ts).

export type SessionStatus = SessionRow['status'];
export const SESSION_STATUSES: readonly SessionStatus[] = ['starting', 'active', 'completed', 'unbilled'];

export interface SessionView {
  session: SessionRow & { charge_point_identity: string };
  receipt: { receipt: ReceiptRow; lines: ReceiptLineRow[] } | null;
  payment: PaymentRow | null;
  /** The session's open or approved exemption, else its latest one. */
  exemption: ExemptionSummary | null;
}

export interface ExemptionSummary {
  id: string;
  status: string;
  amount: string | null;
  reversal: string | null;
  amount_reversed: string | null;
  credit_note_id: string | null;
  credit_note_number: string | null;
}

function sessionsOf(db: Knex, organizationId: string): Knex.QueryBuilder {
  return db('charging_sessions')
    .join('charge_points', 'charge_points.id', 'charging_sessions.charge_point_id')
    .where('charging_sessions.organization_id', organizationId)
    .select('charging_sessions.*', 'charge_points.identity as charge_point_identity');
}

async function withBilling(db: Knex, sessions: SessionView['session'][]): Promise<SessionView[]> {
  if (sessions.length === 0) return [];
  const ids = sessions.map((s) => s.id);
  const receipts: ReceiptRow[] = await db<ReceiptRow>('receipts').whereIn('session_id', ids);
  const lines: ReceiptLineRow[] = receipts.length
    ? await db<ReceiptLineRow>('receipt_lines')
        .whereIn(
          'receipt_id',
          receipts.map((r) => r.id),
        )
        .orderBy(['receipt_id', 'position'])
    : [];
  const payments: PaymentRow[] = await db<PaymentRow>('payments').whereIn('session_id', ids);
  const exemptions: (ExemptionSummary & { session_id: string })[] = await db('exemptions')
    .leftJoin('credit_notes', 'credit_notes.exemption_id', 'exemptions.id')
    .whereIn('exemptions.session_id', ids)
    // Live ones (pending, approved) first, then the newest.
    .orderByRaw("exemptions.status IN ('pending', 'approved') DESC, exemptions.id DESC")
    .select(
      'exemptions.session_id',
      'exemptions.id',
      'exemptions.status',
      'exemptions.amount',
      'exemptions.reversal',
      'exemptions.amount_reversed',
      'credit_notes.id as credit_note_id',
      'credit_notes.number as credit_note_number',
    );
  return sessions.map((session) => {
    const receipt = receipts.find((r) => r.session_id === session.id);
    return {
      session,
      receipt: receipt ? { receipt, lines: lines.filter((l) => l.receipt_id === receipt.id) } : null,
      payment: payments.find((p) => p.session_id === session.id) ?? null,
      exemption: exemptions.find((e) => e.session_id === session.id) ?? null,
    };
  });
}

export async function getSessionView(
  db: Knex,
  organizationId: string,
  sessionId: string,
): Promise<SessionView | undefined> {
  const session = await sessionsOf(db, organizationId).where('charging_sessions.id', sessionId).first();
  return session && (await withBilling(db, [session]))[0];
}

export async function listSessionViews(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { status?: SessionStatus; chargePointId?: string } = {},
): Promise<Page<SessionView>> {
  const query = sessionsOf(db, organizationId);
  if (filter.status !== undefined) query.where('charging_sessions.status', filter.status);
  if (filter.chargePointId !== undefined)
    query.where('charging_sessions.charge_point_id', filter.chargePointId);
  const result = await fetchPage(query, page, 'charging_sessions.id', (row: SessionView['session']) => row);
  return { data: await withBilling(db, result.data), hasMore: result.hasMore };
}
