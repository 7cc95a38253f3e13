import type { Knex } from 'knex';
import { exemptionObject } from '../../events/payloads';
import { newId } from '../ids';
import { appendAudit, SYSTEM } from './auditLog';
import { recordEvent } from './events';
import { type NewRefund, recordRefund } from './refunds';
import { canonicalDecimalOrNull } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

export type ExemptionStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export type Reversal = 'hold_canceled' | 'refunded' | 'invoice_credit';

export interface Exemption {
  id: string;
  organizationId: string;
  sessionId: string;
  requestedBy: string;
  reason: string;
  /** Null: the whole charge. Decimal string. */
  amount: string | null;
  currency: string;
  status: ExemptionStatus;
  decidedBy: string | null;
  decisionNote: string | null;
  decidedAt: Date | null;
  remindedAt: Date | null;
  reversal: Reversal | null;
  refundId: string | null;
  amountReversed: string | null;
  reversedAt: Date | null;
  workflowId: string;
  createdAt: Date;
}

interface ExemptionRow {
  id: string;
  organization_id: string;
  session_id: string;
  requested_by: string;
  reason: string;
  amount: string | null;
  currency: string;
  status: ExemptionStatus;
  decided_by: string | null;
  decision_note: string | null;
  decided_at: Date | null;
  reminded_at: Date | null;
  reversal: Reversal | null;
  refund_id: string | null;
  amount_reversed: string | null;
  reversed_at: Date | null;
  workflow_id: string;
  created_at: Date;
}

const toExemption = (r: ExemptionRow): Exemption => ({
  id: r.id,
  organizationId: r.organization_id,
  sessionId: r.session_id,
  requestedBy: r.requested_by,
  reason: r.reason,
  amount: canonicalDecimalOrNull(r.amount),
  currency: r.currency,
  status: r.status,
  decidedBy: r.decided_by,
  decisionNote: r.decision_note,
  decidedAt: r.decided_at,
  remindedAt: r.reminded_at,
  reversal: r.reversal,
  refundId: r.refund_id,
  amountReversed: canonicalDecimalOrNull(r.amount_reversed),
  reversedAt: r.reversed_at,
  workflowId: r.workflow_id,
  createdAt: r.created_at,
});

export const exemptionWorkflowId = (exemptionId: string) => `exemption:${exemptionId}`;

export async function createExemption(
  db: Knex,
  input: {
    organizationId: string;
    sessionId: string;
    requestedBy: string;
    reason: string;
    amount: string | null;
    currency: string;
  },
): Promise<Exemption> {
  const id = newId('exm');
  return db.transaction(async (trx) => {
    const [row] = await trx<ExemptionRow>('exemptions')
      .insert({
        id,
        organization_id: input.organizationId,
        session_id: input.sessionId,
        requested_by: input.requestedBy,
        reason: input.reason,
        amount: input.amount,
        currency: input.currency,
        status: 'pending',
        workflow_id: exemptionWorkflowId(id),
      })
      .returning('*');
    const exemption = toExemption(row);
    await recordEvent(trx, {
      organizationId: exemption.organizationId,
      type: 'exemption.requested',
      objectType: 'exemption',
      objectId: id,
      object: exemptionObject(exemption),
    });
    return exemption;
  });
}

export async function getExemption(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<Exemption | undefined> {
  const row = await db<ExemptionRow>('exemptions').where({ organization_id: organizationId, id }).first();
  return row && toExemption(row);
}

/** For activities, which act on an id they were given by the workflow. */
export async function findExemption(db: Knex, id: string): Promise<Exemption | undefined> {
  const row = await db<ExemptionRow>('exemptions').where({ id }).first();
  return row && toExemption(row);
}

/** The session's pending or approved exemption, if any. */
export async function findLiveExemption(db: Knex, sessionId: string): Promise<Exemption | undefined> {
  const row = await db<ExemptionRow>('exemptions')
    .where({ session_id: sessionId })
    .whereIn('status', ['pending', 'approved'])
    .first();
  return row && toExemption(row);
}

export async function listExemptions(
  db: Knex,
  organizationId: string,
  filter: { status?: ExemptionStatus; sessionId?: string },
  page: PageRequest,
): Promise<Page<Exemption>> {
  const query = db('exemptions').where({ organization_id: organizationId }).select('*');
  if (filter.status) query.where({ status: filter.status });
  if (filter.sessionId) query.where({ session_id: filter.sessionId });
  return fetchPage(query, page, 'id', toExemption);
}

/** Only a pending exemption is decided; a repeat of the same decision is a no-op. */
export async function recordDecision(
  db: Knex,
  id: string,
  d: { status: 'approved' | 'rejected' | 'expired'; decidedBy: string | null; note: string | null; at: Date },
): Promise<Exemption> {
  return db.transaction(async (trx) => {
    const before = await findExemption(trx, id);
    const count = await trx('exemptions')
      .where({ id, status: 'pending' })
      .update({ status: d.status, decided_by: d.decidedBy, decision_note: d.note, decided_at: d.at });
    const after = (await findExemption(trx, id))!;
    if (count === 1) {
      const object = exemptionObject(after);
      if (d.status !== 'expired') {
        await recordEvent(trx, {
          organizationId: after.organizationId,
          type: `exemption.${d.status}`,
          objectType: 'exemption',
          objectId: id,
          object,
        });
      }
      await appendAudit(trx, {
        organizationId: after.organizationId,
        actor: d.decidedBy ? { type: 'member', id: d.decidedBy } : SYSTEM,
        action: `exemption.${d.status}`,
        objectType: 'exemption',
        objectId: id,
        before: before && exemptionObject(before),
        after: object,
      });
    }
    return after;
  });
}

export async function recordReminder(db: Knex, id: string, at: Date): Promise<void> {
  await db('exemptions').where({ id }).whereNull('reminded_at').update({ reminded_at: at });
}

export async function recordReversal(
  db: Knex,
  id: string,
  r: { reversal: Reversal; refundId?: string | null; amount: string; at: Date; refund?: NewRefund },
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('exemptions')
      .where({ id })
      .whereNull('reversal')
      .update({
        reversal: r.reversal,
        refund_id: r.refundId ?? null,
        amount_reversed: r.amount,
        reversed_at: r.at,
      });
    if (r.refund) await recordRefund(trx, r.refund);
  });
}
