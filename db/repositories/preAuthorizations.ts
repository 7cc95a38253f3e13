import type { Knex } from 'knex';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';

// Holds placed before a remote start (db/migrations/020). Each ends exactly once: adopted by the session
// that started, or released; both are conditional updates of a pending row, so a session starting just as
// the hold expires either gets it or finds it gone, never both.

export interface PreAuthorization {
  id: string;
  organizationId: string;
  chargePointId: string;
  idTag: string;
  userId: string;
  providerPaymentId: string;
  amount: string;
  currency: string;
  status: 'pending' | 'adopted' | 'released';
  sessionId: string | null;
  expiresAt: Date;
}

interface Row {
  id: string;
  organization_id: string;
  charge_point_id: string;
  id_tag: string;
  user_id: string;
  provider_payment_id: string;
  amount: string;
  currency: string;
  status: 'pending' | 'adopted' | 'released';
  session_id: string | null;
  expires_at: Date;
}

const toPreAuthorization = (r: Row): PreAuthorization => ({
  id: r.id,
  organizationId: r.organization_id,
  chargePointId: r.charge_point_id,
  idTag: r.id_tag,
  userId: r.user_id,
  providerPaymentId: r.provider_payment_id,
  amount: canonicalDecimal(r.amount),
  currency: r.currency,
  status: r.status,
  sessionId: r.session_id,
  expiresAt: r.expires_at,
});

export const newPreAuthorizationId = () => newId('pa');

export async function recordPreAuthorization(
  db: Knex,
  p: Omit<PreAuthorization, 'status' | 'sessionId'>,
): Promise<PreAuthorization> {
  const [row] = await db<Row>('pre_authorizations')
    .insert({
      id: p.id,
      organization_id: p.organizationId,
      charge_point_id: p.chargePointId,
      id_tag: p.idTag,
      user_id: p.userId,
      provider_payment_id: p.providerPaymentId,
      amount: p.amount,
      currency: p.currency,
      status: 'pending',
      expires_at: p.expiresAt,
    })
    .returning('*');
  return toPreAuthorization(row);
}

/** The oldest unexpired pending hold for this tag at this charge point, now the session's; or undefined. */
export async function adoptPreAuthorization(
  db: Knex,
  at: { chargePointId: string; idTag: string; sessionId: string },
): Promise<PreAuthorization | undefined> {
  const already = await db<Row>('pre_authorizations').where({ session_id: at.sessionId }).first();
  if (already) return toPreAuthorization(already);
  const [row] = await db<Row>('pre_authorizations')
    .whereIn(
      'id',
      db('pre_authorizations')
        .where({ charge_point_id: at.chargePointId, status: 'pending' })
        .whereRaw('lower(id_tag) = lower(?)', [at.idTag])
        .where('expires_at', '>', db.fn.now())
        .orderBy('created_at')
        .limit(1)
        .select('id'),
    )
    .where({ status: 'pending' })
    .update({ status: 'adopted', session_id: at.sessionId })
    .returning('*');
  return row && toPreAuthorization(row);
}

/** pending -> released; undefined when the hold was adopted or released already. */
export async function markPreAuthorizationReleased(
  db: Knex,
  id: string,
): Promise<PreAuthorization | undefined> {
  const [row] = await db<Row>('pre_authorizations')
    .where({ id, status: 'pending' })
    .update({ status: 'released' })
    .returning('*');
  return row && toPreAuthorization(row);
}

export async function findPreAuthorization(db: Knex, id: string): Promise<PreAuthorization | undefined> {
  const row = await db<Row>('pre_authorizations').where({ id }).first();
  return row && toPreAuthorization(row);
}
