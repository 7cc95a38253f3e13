import type { Knex } from 'knex';
import { newId } from '../ids';
import { fetchPage, Page, PageRequest } from './pagination';

// Appended inside the transaction of the change it records, so the log holds exactly what committed.

export type AuditAction =
  | 'payment.captured'
  | 'refund.created'
  | 'exemption.approved'
  | 'exemption.rejected'
  | 'exemption.expired'
  | 'invoice.issued'
  | 'invoice.paid'
  | 'invoice.voided'
  | 'payout.paid'
  | 'payout.failed'
  | 'tariff.created'
  | 'tariff.updated'
  | 'tariff.deleted'
  | 'tariff.assigned'
  | 'tariff.unassigned'
  | 'billing_rule.created'
  | 'billing_rule.updated'
  | 'billing_rule.deleted'
  | 'promotional_code.created'
  | 'promotional_code.deactivated'
  | 'energy_allowance.set'
  | 'webhook_endpoint.secret_rotated'
  | 'hold_policy.set'
  | 'hold_policy.deleted'
  | 'debt.paid'
  | 'wallet.topped_up'
  | 'wallet.granted'
  | 'user.payment_mode_set';

export interface Actor {
  type: 'member' | 'system' | 'provider';
  id: string;
}

export const SYSTEM: Actor = { type: 'system', id: 'billing-engine' };

export interface AuditEntry {
  organizationId: string;
  actor: Actor;
  action: AuditAction;
  objectType: string;
  objectId: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditRow {
  id: string;
  organization_id: string;
  actor_type: Actor['type'];
  actor_id: string;
  action: AuditAction;
  object_type: string;
  object_id: string;
  before: unknown;
  after: unknown;
  created_at: Date;
}

export async function appendAudit(trx: Knex, e: AuditEntry): Promise<void> {
  await trx('audit_log').insert({
    id: newId('aud'),
    organization_id: e.organizationId,
    actor_type: e.actor.type,
    actor_id: e.actor.id,
    action: e.action,
    object_type: e.objectType,
    object_id: e.objectId,
    before: e.before === undefined ? null : JSON.stringify(e.before),
    after: e.after === undefined ? null : JSON.stringify(e.after),
  });
}

export interface AuditFilter {
  action?: string;
  objectId?: string;
  actorId?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

export async function listAudit(
  db: Knex,
  organizationId: string,
  f: AuditFilter,
  page: PageRequest,
): Promise<Page<AuditRow>> {
  const query = db('audit_log').where({ organization_id: organizationId });
  if (f.action) query.where({ action: f.action });
  if (f.objectId) query.where({ object_id: f.objectId });
  if (f.actorId) query.where({ actor_id: f.actorId });
  if (f.createdFrom) query.where('created_at', '>=', f.createdFrom);
  if (f.createdTo) query.where('created_at', '<', f.createdTo);
  return fetchPage(query, page, 'id', (r: AuditRow) => r);
}
