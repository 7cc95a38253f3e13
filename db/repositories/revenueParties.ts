import type { Knex } from 'knex';
import { newId } from '../ids';
import { fetchPage, Page, PageRequest } from './pagination';

// Who revenue is shared with. A party with a Stripe Connect account is paid by transfer; one without is paid
// by a bank transfer the operator makes from the exported payouts (to `iban`).

export interface RevenueParty {
  id: string;
  organizationId: string;
  name: string;
  connectedAccountId: string | null;
  iban: string | null;
  createdAt: Date;
}

interface PartyRow {
  id: string;
  organization_id: string;
  name: string;
  connected_account_id: string | null;
  iban: string | null;
  created_at: Date;
}

const toParty = (r: PartyRow): RevenueParty => ({
  id: r.id,
  organizationId: r.organization_id,
  name: r.name,
  connectedAccountId: r.connected_account_id,
  iban: r.iban,
  createdAt: r.created_at,
});

export async function createParty(
  db: Knex,
  organizationId: string,
  input: { name: string; connectedAccountId: string | null; iban: string | null },
): Promise<RevenueParty> {
  const [row] = await db<PartyRow>('revenue_parties')
    .insert({
      id: newId('rp'),
      organization_id: organizationId,
      name: input.name,
      connected_account_id: input.connectedAccountId,
      iban: input.iban,
    })
    .returning('*');
  return toParty(row);
}

export async function getParty(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<RevenueParty | undefined> {
  const row = await db<PartyRow>('revenue_parties').where({ organization_id: organizationId, id }).first();
  return row && toParty(row);
}

export async function findParty(db: Knex, id: string): Promise<RevenueParty | undefined> {
  const row = await db<PartyRow>('revenue_parties').where({ id }).first();
  return row && toParty(row);
}

export async function listParties(
  db: Knex,
  organizationId: string,
  page: PageRequest,
): Promise<Page<RevenueParty>> {
  return fetchPage(db('revenue_parties').where({ organization_id: organizationId }), page, 'id', toParty);
}

/** Which of the ids are the organization's parties. */
export async function existingPartyIds(
  db: Knex,
  organizationId: string,
  ids: string[],
): Promise<Set<string>> {
  const rows = await db('revenue_parties')
    .where({ organization_id: organizationId })
    .whereIn('id', ids)
    .pluck('id');
  return new Set(rows as string[]);
}
