import type { Knex } from 'knex';
import { payoutObject } from '../../events/payloads';
import { newId } from '../ids';
import { appendAudit, SYSTEM } from './auditLog';
import { recordEvent } from './events';
import { canonicalDecimal } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';
import type { RevenueStatement } from './revenueStatements';

// A statement's payout, at most one per party and month. A party with a connected account is paid by a
// transfer through the payment provider ('transfer': pending until the provider answers, then paid or
// failed); a party without one gets a 'bank_export' payout that stays pending until the operator's bank
// transfer. A statement that pays nothing has no payout.

export type PayoutMethod = 'transfer' | 'bank_export';
export type PayoutStatus = 'pending' | 'paid' | 'failed';

export interface Payout {
  id: string;
  organizationId: string;
  partyId: string;
  statementId: string;
  period: string;
  amount: string;
  currency: string;
  method: PayoutMethod;
  destination: string | null;
  providerTransferId: string | null;
  status: PayoutStatus;
  failureMessage: string | null;
  refusals: number;
  createdAt: Date;
  paidAt: Date | null;
}

interface PayoutRow {
  id: string;
  organization_id: string;
  party_id: string;
  statement_id: string;
  period: string;
  amount: string;
  currency: string;
  method: PayoutMethod;
  destination: string | null;
  provider_transfer_id: string | null;
  status: PayoutStatus;
  failure_message: string | null;
  refusals: number;
  created_at: Date;
  paid_at: Date | null;
}

const toPayout = (r: PayoutRow): Payout => ({
  id: r.id,
  organizationId: r.organization_id,
  partyId: r.party_id,
  statementId: r.statement_id,
  period: r.period,
  amount: canonicalDecimal(r.amount),
  currency: r.currency,
  method: r.method,
  destination: r.destination,
  providerTransferId: r.provider_transfer_id,
  status: r.status,
  failureMessage: r.failure_message,
  refusals: r.refusals,
  createdAt: r.created_at,
  paidAt: r.paid_at,
});

export async function findPayout(db: Knex, id: string): Promise<Payout | undefined> {
  const row = await db<PayoutRow>('payouts').where({ id }).first();
  return row && toPayout(row);
}

export async function getPayout(db: Knex, organizationId: string, id: string): Promise<Payout | undefined> {
  const row = await db<PayoutRow>('payouts').where({ organization_id: organizationId, id }).first();
  return row && toPayout(row);
}

export async function listPayouts(
  db: Knex,
  organizationId: string,
  filter: { partyId?: string; period?: string; status?: PayoutStatus; method?: PayoutMethod },
  page: PageRequest,
): Promise<Page<Payout>> {
  const query = db('payouts').where({ organization_id: organizationId });
  if (filter.partyId !== undefined) query.where({ party_id: filter.partyId });
  if (filter.period !== undefined) query.where({ period: filter.period });
  if (filter.status !== undefined) query.where({ status: filter.status });
  if (filter.method !== undefined) query.where({ method: filter.method });
  return fetchPage(query, page, 'id', toPayout);
}

/** The statement's payout, created on first call (pending), answered as it stands on every later one. */
export async function openPayout(
  db: Knex,
  statement: RevenueStatement,
  p: { method: PayoutMethod; destination: string | null },
): Promise<Payout> {
  return db.transaction(async (trx) => {
    const [created]: PayoutRow[] = await trx('payouts')
      .insert({
        id: newId('po'),
        organization_id: statement.organizationId,
        party_id: statement.partyId,
        statement_id: statement.id,
        period: statement.period,
        amount: statement.payoutAmount,
        currency: statement.currency,
        method: p.method,
        destination: p.destination,
        status: 'pending',
      })
      .onConflict(['party_id', 'period'])
      .ignore()
      .returning('*');
    if (created) {
      const payout = toPayout(created);
      await recordEvent(trx, {
        organizationId: payout.organizationId,
        type: 'payout.created',
        objectType: 'payout',
        objectId: payout.id,
        object: payoutObject(payout),
      });
      return payout;
    }
    const row = await trx<PayoutRow>('payouts')
      .where({ party_id: statement.partyId, period: statement.period })
      .first();
    return toPayout(row!);
  });
}

/** pending -> paid with the provider's transfer; a payout paid already stays as it was. */
export async function markPayoutPaid(
  db: Knex,
  id: string,
  p: { providerTransferId: string; at: Date },
): Promise<Payout> {
  return db.transaction(async (trx) => {
    const before = (await findPayout(trx, id))!;
    const count = await trx('payouts').where({ id, status: 'pending' }).update({
      status: 'paid',
      provider_transfer_id: p.providerTransferId,
      paid_at: p.at,
      failure_message: null,
    });
    const after = (await findPayout(trx, id))!;
    if (count === 1) {
      await recordEvent(trx, {
        organizationId: after.organizationId,
        type: 'payout.paid',
        objectType: 'payout',
        objectId: id,
        object: payoutObject(after),
      });
      await auditPayout(trx, 'payout.paid', before, after);
    }
    return after;
  });
}

async function auditPayout(
  trx: Knex,
  action: 'payout.paid' | 'payout.failed',
  before: Payout,
  after: Payout,
) {
  await appendAudit(trx, {
    organizationId: after.organizationId,
    actor: SYSTEM,
    action,
    objectType: 'payout',
    objectId: after.id,
    before: payoutObject(before),
    after: payoutObject(after),
  });
}

/** pending -> failed: the provider refused the transfer, so no money moved. */
export async function markPayoutRefused(db: Knex, id: string, message: string): Promise<Payout> {
  return db.transaction(async (trx) => {
    const before = (await findPayout(trx, id))!;
    const count = await trx('payouts')
      .where({ id, status: 'pending' })
      .update({ status: 'failed', failure_message: message, refusals: trx.raw('refusals + 1') });
    const after = (await findPayout(trx, id))!;
    if (count === 1) await auditPayout(trx, 'payout.failed', before, after);
    return after;
  });
}

/** failed -> pending, for another attempt after the cause of the refusal was fixed. */
export async function reopenPayout(db: Knex, id: string, destination: string | null): Promise<Payout> {
  await db('payouts').where({ id, status: 'failed' }).update({ status: 'pending', destination });
  return (await findPayout(db, id))!;
}
