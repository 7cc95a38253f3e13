import type { Knex } from 'knex';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

// What a driver owes when the difference above a session's hold could not be charged off-session. One debt
// per session; while one is open the driver's Authorize is refused (the entitlement caches are told by a
// trigger, db/migrations/018).

export interface Debt {
  id: string;
  organizationId: string;
  userId: string;
  sessionId: string;
  amount: string;
  currency: string;
  status: 'open' | 'paid';
  reason: string;
  paidWith: string | null;
  createdAt: Date;
  paidAt: Date | null;
}

interface Row {
  id: string;
  organization_id: string;
  user_id: string;
  session_id: string;
  amount: string;
  currency: string;
  status: 'open' | 'paid';
  reason: string;
  paid_with: string | null;
  created_at: Date;
  paid_at: Date | null;
}

const toDebt = (r: Row): Debt => ({
  id: r.id,
  organizationId: r.organization_id,
  userId: r.user_id,
  sessionId: r.session_id,
  amount: canonicalDecimal(r.amount),
  currency: r.currency,
  status: r.status,
  reason: r.reason,
  paidWith: r.paid_with,
  createdAt: r.created_at,
  paidAt: r.paid_at,
});

/** Opens the session's debt; a retry answers the debt already open. */
export async function openDebt(
  db: Knex,
  d: {
    organizationId: string;
    userId: string;
    sessionId: string;
    amount: string;
    currency: string;
    reason: string;
  },
): Promise<Debt> {
  await db('debts')
    .insert({
      id: newId('debt'),
      organization_id: d.organizationId,
      user_id: d.userId,
      session_id: d.sessionId,
      amount: d.amount,
      currency: d.currency,
      status: 'open',
      reason: d.reason,
    })
    .onConflict('session_id')
    .ignore();
  return toDebt((await db<Row>('debts').where({ session_id: d.sessionId }).first())!);
}

export async function getDebt(db: Knex, organizationId: string, id: string): Promise<Debt | undefined> {
  const row = await db<Row>('debts').where({ organization_id: organizationId, id }).first();
  return row && toDebt(row);
}

export async function listDebts(
  db: Knex,
  organizationId: string,
  f: { userId?: string; status?: 'open' | 'paid' },
  page: PageRequest,
): Promise<Page<Debt>> {
  const query = db('debts').where({ organization_id: organizationId });
  if (f.userId) query.where({ user_id: f.userId });
  if (f.status) query.where({ status: f.status });
  return fetchPage(query, page, 'id', toDebt);
}

/** open -> paid; undefined when it was not open. */
export async function markDebtPaid(db: Knex, id: string, paidWith: string): Promise<Debt | undefined> {
  const [row] = await db<Row>('debts')
    .where({ id, status: 'open' })
    .update({ status: 'paid', paid_with: paidWith, paid_at: db.fn.now() })
    .returning('*');
  return row && toDebt(row);
}
