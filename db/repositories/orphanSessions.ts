import type { Knex } from 'knex';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

export interface OrphanSession {
  id: string;
  organizationId: string;
  chargePointId: string;
  transactionId: number;
  idTag: string | null;
  meterStopWh: string;
  stoppedAt: Date;
  stopReason: string | null;
  transactionData: unknown;
  receivedAt: Date;
  resolvedAt: Date | null;
  resolution: string | null;
}

interface Row {
  id: string;
  organization_id: string;
  charge_point_id: string;
  transaction_id: number;
  id_tag: string | null;
  meter_stop_wh: string;
  stopped_at: Date;
  stop_reason: string | null;
  transaction_data: unknown;
  received_at: Date;
  resolved_at: Date | null;
  resolution: string | null;
}

const toOrphan = (r: Row): OrphanSession => ({
  id: r.id,
  organizationId: r.organization_id,
  chargePointId: r.charge_point_id,
  transactionId: r.transaction_id,
  idTag: r.id_tag,
  meterStopWh: canonicalDecimal(r.meter_stop_wh),
  stoppedAt: r.stopped_at,
  stopReason: r.stop_reason,
  transactionData: r.transaction_data,
  receivedAt: r.received_at,
  resolvedAt: r.resolved_at,
  resolution: r.resolution,
});

/** What a StopTransaction says; the rest of an orphan session is the platform's. */
export type OrphanStop = Omit<OrphanSession, 'id' | 'receivedAt' | 'resolvedAt' | 'resolution'>;

/** Records a stop nobody started; a resend of the same stop returns the first record unchanged. */
export async function recordOrphanStop(db: Knex, stop: OrphanStop): Promise<OrphanSession> {
  const [inserted] = await db<Row>('orphan_sessions')
    .insert({
      id: newId('orph'),
      organization_id: stop.organizationId,
      charge_point_id: stop.chargePointId,
      transaction_id: stop.transactionId,
      id_tag: stop.idTag,
      meter_stop_wh: stop.meterStopWh,
      stopped_at: stop.stoppedAt,
      stop_reason: stop.stopReason,
      transaction_data: stop.transactionData === undefined ? null : JSON.stringify(stop.transactionData),
    })
    .onConflict(['charge_point_id', 'transaction_id'])
    .ignore()
    .returning('*');
  if (inserted) return toOrphan(inserted);
  const existing = await db<Row>('orphan_sessions')
    .where({ charge_point_id: stop.chargePointId, transaction_id: stop.transactionId })
    .first();
  return toOrphan(existing!);
}

export async function listOrphanSessions(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { resolved?: boolean } = {},
): Promise<Page<OrphanSession>> {
  const query = db('orphan_sessions').where({ organization_id: organizationId });
  if (filter.resolved === true) query.whereNotNull('resolved_at');
  if (filter.resolved === false) query.whereNull('resolved_at');
  return fetchPage(query, page, 'id', toOrphan);
}

export async function getOrphanSession(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<OrphanSession | undefined> {
  const row = await db<Row>('orphan_sessions').where({ organization_id: organizationId, id }).first();
  return row && toOrphan(row);
}

/** Marks it handled with the operator's note; resolving again keeps the first resolution. */
export async function resolveOrphanSession(
  db: Knex,
  organizationId: string,
  id: string,
  resolution: string,
): Promise<OrphanSession | undefined> {
  await db('orphan_sessions')
    .where({ organization_id: organizationId, id })
    .whereNull('resolved_at')
    .update({ resolved_at: db.fn.now(), resolution });
  return getOrphanSession(db, organizationId, id);
}
