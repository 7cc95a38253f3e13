import type { Knex } from 'knex';
import { Dec } from '../../pricing/money';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';
import { Page, PageRequest } from './pagination';

// A revenue-share rule splits the revenue of a project's or a site's sessions between parties by
// percentages that add up to exactly 100, with a minimum payout. A site's rule wins over its project's. Rules
// are never edited: creating one for a project or site that has an active rule replaces that rule (it stays
// readable, inactive), and the new splits apply to every session not shared yet, i.e. from the next statement
// on. Sessions shared under the old rule keep its splits for the credits that come later.

export interface ShareSplit {
  partyId: string;
  /** Decimal string, at most 4 decimals, > 0 and <= 100. */
  percent: string;
}

export interface ShareRule {
  id: string;
  organizationId: string;
  projectId: string | null;
  siteId: string | null;
  currency: string;
  minimumPayout: string;
  /** yyyy-mm: sessions that ended before this month (organization time zone) are not shared by this rule. */
  effectiveFrom: string;
  active: boolean;
  deactivatedAt: Date | null;
  splits: ShareSplit[];
  createdAt: Date;
}

interface RuleRow {
  id: string;
  organization_id: string;
  project_id: string | null;
  site_id: string | null;
  currency: string;
  minimum_payout: string;
  effective_from: string;
  active: boolean;
  deactivated_at: Date | null;
  created_at: Date;
}

export interface NewShareRule {
  projectId: string | null;
  siteId: string | null;
  currency: string;
  minimumPayout: string;
  effectiveFrom: string;
  splits: ShareSplit[];
}

/** Settlements and rule changes of an organization run one at a time (see revenueStatements.ts). */
export async function lockRevenueSharing(trx: Knex.Transaction, organizationId: string): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`revenue-share:${organizationId}`]);
}

async function withSplits(db: Knex, rows: RuleRow[]): Promise<ShareRule[]> {
  const splits = await db('revenue_share_splits')
    .whereIn(
      'rule_id',
      rows.map((r) => r.id),
    )
    .orderBy(['rule_id', 'position'])
    .select('rule_id', 'party_id', 'percent');
  return rows.map((r) => ({
    id: r.id,
    organizationId: r.organization_id,
    projectId: r.project_id,
    siteId: r.site_id,
    currency: r.currency,
    minimumPayout: canonicalDecimal(r.minimum_payout),
    effectiveFrom: r.effective_from,
    active: r.active,
    deactivatedAt: r.deactivated_at,
    splits: splits
      .filter((s) => s.rule_id === r.id)
      .map((s) => ({ partyId: s.party_id, percent: canonicalDecimal(s.percent) })),
    createdAt: r.created_at,
  }));
}

/**
 * Writes the rule and its splits, replacing the project's or site's active rule. The caller has checked the
 * scope and the parties; the percentages are checked here once more, as nothing else guards their sum. In the
 * caller's transaction when it has one (a savepoint), so a refused request writes nothing.
 */
export async function createShareRule(
  db: Knex,
  organizationId: string,
  rule: NewShareRule,
  at: Date,
): Promise<ShareRule> {
  const sum = rule.splits.reduce((s, p) => s.add(p.percent), new Dec(0));
  if (!sum.eq(100)) throw new RangeError(`splits add up to ${sum}, not 100`);
  return db.transaction(async (trx) => {
    // Serialized with settlements, which read the active rules.
    await lockRevenueSharing(trx, organizationId);
    const scope = rule.siteId ? { site_id: rule.siteId } : { project_id: rule.projectId };
    await trx('revenue_share_rules')
      .where({ organization_id: organizationId, active: true, ...scope })
      .update({ active: false, deactivated_at: at });
    const id = newId('rss');
    const [row] = await trx<RuleRow>('revenue_share_rules')
      .insert({
        id,
        organization_id: organizationId,
        project_id: rule.projectId,
        site_id: rule.siteId,
        currency: rule.currency,
        minimum_payout: rule.minimumPayout,
        effective_from: rule.effectiveFrom,
        created_at: at,
      })
      .returning('*');
    await trx('revenue_share_splits').insert(
      rule.splits.map((s, position) => ({ rule_id: id, position, party_id: s.partyId, percent: s.percent })),
    );
    return (await withSplits(trx, [row]))[0];
  });
}

export async function getShareRule(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<ShareRule | undefined> {
  const row = await db<RuleRow>('revenue_share_rules').where({ organization_id: organizationId, id }).first();
  return row && (await withSplits(db, [row]))[0];
}

export async function listShareRules(
  db: Knex,
  organizationId: string,
  filter: { projectId?: string; siteId?: string; active?: boolean; partyId?: string },
  page: PageRequest,
): Promise<Page<ShareRule>> {
  const query = db<RuleRow>('revenue_share_rules').where({ organization_id: organizationId });
  if (filter.projectId !== undefined) query.where({ project_id: filter.projectId });
  if (filter.siteId !== undefined) query.where({ site_id: filter.siteId });
  if (filter.active !== undefined) query.where({ active: filter.active });
  if (filter.partyId !== undefined) {
    query.whereIn('id', db('revenue_share_splits').where({ party_id: filter.partyId }).select('rule_id'));
  }
  if (page.startingAfter !== undefined) query.where('id', '>', page.startingAfter);
  const rows: RuleRow[] = await query.orderBy('id').limit(page.limit + 1);
  return { hasMore: rows.length > page.limit, data: await withSplits(db, rows.slice(0, page.limit)) };
}

/** Rules by id, active or not: the splits sessions were shared with. */
export async function shareRulesById(db: Knex, ids: string[]): Promise<Map<string, ShareRule>> {
  const rows: RuleRow[] = await db('revenue_share_rules').whereIn('id', ids);
  return new Map((await withSplits(db, rows)).map((r) => [r.id, r]));
}

export async function activeShareRules(db: Knex, organizationId: string): Promise<ShareRule[]> {
  const rows: RuleRow[] = await db('revenue_share_rules')
    .where({ organization_id: organizationId, active: true })
    .orderBy('id');
  return withSplits(db, rows);
}

/**
 * The currency each party is paid in: the currency of the rules naming it (a party is only ever named in
 * rules of one currency, so its statements never mix currencies).
 */
export async function partyCurrencies(db: Knex, partyIds: string[]): Promise<Map<string, string>> {
  const rows = await db('revenue_share_splits as s')
    .join('revenue_share_rules as r', 'r.id', 's.rule_id')
    .whereIn('s.party_id', partyIds)
    .distinct('s.party_id', 'r.currency');
  return new Map(rows.map((r) => [r.party_id as string, r.currency as string]));
}
