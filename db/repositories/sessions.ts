import type { Knex } from 'knex';
import { sessionObject } from '../../events/payloads';
import { newId } from '../ids';
import { recordEvent } from './events';
import { findIdTagByValue, getUser } from './users';

export interface SessionRow {
  id: string;
  organization_id: string;
  charge_point_id: string;
  connector_id: number;
  transaction_id: number;
  id_tag: string;
  user_id: string | null;
  tariff_version_id: string | null;
  currency: string | null;
  status: 'starting' | 'active' | 'completed' | 'unbilled';
  status_reason: string | null;
  meter_start_wh: string;
  meter_stop_wh: string | null;
  energy_wh: string | null;
  duration_seconds: number | null;
  total_amount: string | null;
  started_at: Date;
  stopped_at: Date | null;
  stop_reason: string | null;
  workflow_id: string;
  payment_mode?: string | null;
  roaming_party?: string | null;
}

export interface AllocateTransaction {
  organizationId: string;
  chargePointId: string;
  chargePointIdentity: string;
  connectorId: number;
  idTag: string;
  meterStartWh: string;
  startedAt: Date;
  workflowIdFor: (transactionId: number) => string;
}

/**
 * Allocates the OCPP transactionId for a StartTransaction. A resend of the same StartTransaction (same
 * connector and timestamp) gets the row, and so the transactionId and workflow, of the first one.
 */
export async function allocateTransaction(db: Knex, req: AllocateTransaction): Promise<SessionRow> {
  return db.transaction(async (trx) => {
    const existing = await trx<SessionRow>('charging_sessions')
      .where({ charge_point_id: req.chargePointId, connector_id: req.connectorId, started_at: req.startedAt })
      .first();
    if (existing) return existing;
    const { nextval } = (await trx.raw("SELECT nextval('ocpp_transaction_id_seq')::int AS nextval")).rows[0];
    const [row] = await trx<SessionRow>('charging_sessions')
      .insert({
        id: newId('ses'),
        organization_id: req.organizationId,
        charge_point_id: req.chargePointId,
        connector_id: req.connectorId,
        transaction_id: nextval,
        id_tag: req.idTag,
        status: 'starting',
        meter_start_wh: req.meterStartWh,
        started_at: req.startedAt,
        workflow_id: req.workflowIdFor(nextval),
      })
      .onConflict(['charge_point_id', 'connector_id', 'started_at'])
      .ignore()
      .returning('*');
    // A concurrent duplicate won the insert; answer with its row.
    return (
      row ??
      (await trx<SessionRow>('charging_sessions')
        .where({
          charge_point_id: req.chargePointId,
          connector_id: req.connectorId,
          started_at: req.startedAt,
        })
        .first())!
    );
  });
}

export async function findSessionByTransaction(
  db: Knex,
  chargePointId: string,
  transactionId: number,
): Promise<SessionRow | undefined> {
  return db<SessionRow>('charging_sessions')
    .where({ charge_point_id: chargePointId, transaction_id: transactionId })
    .first();
}

/** The session running on a connector now, if any: its StatusNotifications tell charging from idle time. */
export async function findLiveSessionOnConnector(
  db: Knex,
  chargePointId: string,
  connectorId: number,
): Promise<SessionRow | undefined> {
  return db<SessionRow>('charging_sessions')
    .where({ charge_point_id: chargePointId, connector_id: connectorId })
    .whereIn('status', ['starting', 'active'])
    .orderBy('started_at', 'desc')
    .first();
}

export async function findSession(db: Knex, sessionId: string): Promise<SessionRow | undefined> {
  return db<SessionRow>('charging_sessions').where({ id: sessionId }).first();
}

export async function markSessionOpened(
  db: Knex,
  sessionId: string,
  fields: {
    userId: string | null;
    tariffVersionId: string | null;
    currency: string | null;
    status: 'active' | 'unbilled';
    reason?: string;
    paymentMode?: string;
    roamingParty?: string | null;
  },
): Promise<void> {
  await db.transaction(async (trx) => {
    const [row]: SessionRow[] = await trx('charging_sessions')
      .where({ id: sessionId })
      .update({
        user_id: fields.userId,
        tariff_version_id: fields.tariffVersionId,
        currency: fields.currency,
        status: fields.status,
        status_reason: fields.reason ?? null,
        payment_mode: fields.paymentMode ?? null,
        roaming_party: fields.roamingParty ?? null,
        updated_at: trx.fn.now(),
      })
      .returning('*');
    if (!row) return;
    await recordEvent(trx, {
      organizationId: row.organization_id,
      type: 'session.started',
      objectType: 'session',
      objectId: row.id,
      object: sessionObject(row),
    });
  });
}

export interface PayerContext {
  userId: string | null;
  userType: string | null;
  /** The driver's membership ends at this instant; null when they have none. */
  membershipValidUntil: Date | null;
  paymentMethodId: string | null;
  paymentCustomerId: string | null;
  holdAmount: string;
  /** The user's chosen way to pay (users.payment_mode); null: their card, else the invoice. */
  paymentMode: string | null;
  tagType: string | null;
  roamingParty: string | null;
}

/** Who pays for a session and how much to hold: the id tag's user (same organization) and the charge point's hold. */
export async function findPayerContext(
  db: Knex,
  organizationId: string,
  chargePointId: string,
  idTag: string,
): Promise<PayerContext> {
  const cp = await db('charge_points').where({ id: chargePointId }).first('hold_amount');
  const found = await findIdTagByValue(db, idTag);
  const tag = found && found.organizationId === organizationId ? found : undefined;
  const user = tag ? await getUser(db, organizationId, tag.userId) : undefined;
  return {
    userId: user?.id ?? null,
    userType: user?.userType ?? null,
    membershipValidUntil: user?.membershipValidUntil ?? null,
    paymentMethodId: user?.paymentMethodId ?? null,
    paymentCustomerId: user?.paymentCustomerId ?? null,
    holdAmount: cp?.hold_amount ?? '0',
    paymentMode: user?.paymentMode ?? null,
    tagType: tag?.type ?? null,
    roamingParty: tag?.roamingParty ?? null,
  };
}
