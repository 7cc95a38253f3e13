import type { Knex } from 'knex';
import { Dec } from '../../pricing/money';
import { splitByPercent } from '../../pricing/revenue-split';
import { newId } from '../ids';
import { periodBounds } from '../../pricing/calendar-months';
import { canonicalDecimal } from './decimals';
import { getOrganization, Organization } from './organizations';
import { Page, PageRequest } from './pagination';
import {
  activeShareRules,
  lockRevenueSharing,
  partyCurrencies,
  shareRulesById,
  ShareRule,
} from './revenueShareRules';

// Revenue statements: what each party's percentage of a month's session revenue comes to.
//
// The revenue base, per session: the receipt's total EXCLUDING VAT (VAT is the operator's liability to the
// tax office, not revenue), minus the credit notes of its refunds and exemptions (credit_notes.total_excl_vat).
// Payment-provider fees are NOT deducted: the operator bears them, and parties share the revenue as billed.
// Only sessions with a receipt count, and only in the currency of the rule (nothing is converted). A session
// belongs to its charge point's site (charge_points.site_id) and so to the site's project (sites.project_id);
// the site's active rule applies, else the project's, provided the session ended in or after the rule's
// effective_from month.
//
// Periods are calendar months in the organization's time zone, and a session counts in the month it ended
// in. Statements are made for a whole organization and month at once ("settling" the month), the first time
// any party's statement of it is asked for, so every party's part comes from one split of the same totals:
// - each session is shared once (revenue_shared_sessions, keyed by the session). A session that ended in an
//   earlier month but was not shared yet (an offline charge point reporting late) goes on this month's;
// - credit notes are taken off once each (revenue_shared_credits): one whose session is shared in this
//   statement lowers the base; one whose session was shared in an earlier statement (a refund or exemption
//   after a payout) is an adjustment on this statement, negative, split by the rule the session was shared
//   with;
// - per rule, the base and the adjustments are each split between its parties by pricing/revenue-split.ts
//   (largest remainder in minor units), and a party's statement sums its parts over all rules;
// - carried_in is the party's previous statement's carried_out; balance = carried_in + base + adjustments.
//   A positive balance of at least the minimum payout (the highest minimum of the party's active rules) is
//   paid out whole and nothing carries; otherwise the whole balance carries to the next statement, negative
//   balances included, so a refund after a payout is taken off the next payouts.
// Months are settled in order: once a month is settled, an earlier one can no longer be (its sessions went
// on the later statement), which is what PeriodOutOfOrderError refuses. Settling is idempotent: asking again
// answers the stored statement.

export interface StatementLine {
  ruleId: string;
  kind: 'base' | 'adjustment';
  /** The rule's whole amount of that kind this period; the party's part of it is `amount`. */
  ruleAmount: string;
  percent: string;
  amount: string;
}

export interface RevenueStatement {
  id: string;
  organizationId: string;
  partyId: string;
  period: string;
  currency: string;
  baseAmount: string;
  adjustments: string;
  carriedIn: string;
  balance: string;
  minimumPayout: string;
  payoutAmount: string;
  carriedOut: string;
  lines: StatementLine[];
  createdAt: Date;
}

interface StatementRow {
  id: string;
  organization_id: string;
  party_id: string;
  period: string;
  currency: string;
  base_amount: string;
  adjustments: string;
  carried_in: string;
  balance: string;
  minimum_payout: string;
  payout_amount: string;
  carried_out: string;
  created_at: Date;
}

/** A month cannot be settled once a later one is: its sessions went on the later statements. */
export class PeriodOutOfOrderError extends Error {
  override readonly name = 'PeriodOutOfOrderError';

  constructor(
    readonly period: string,
    readonly settledPeriod: string,
  ) {
    super(`revenue of ${period} cannot be settled: ${settledPeriod} is settled already`);
  }
}

async function withLines(db: Knex, rows: StatementRow[]): Promise<RevenueStatement[]> {
  const lines = await db('revenue_statement_lines')
    .whereIn(
      'statement_id',
      rows.map((r) => r.id),
    )
    .orderBy(['statement_id', 'position']);
  return rows.map((r) => ({
    id: r.id,
    organizationId: r.organization_id,
    partyId: r.party_id,
    period: r.period,
    currency: r.currency,
    baseAmount: canonicalDecimal(r.base_amount),
    adjustments: canonicalDecimal(r.adjustments),
    carriedIn: canonicalDecimal(r.carried_in),
    balance: canonicalDecimal(r.balance),
    minimumPayout: canonicalDecimal(r.minimum_payout),
    payoutAmount: canonicalDecimal(r.payout_amount),
    carriedOut: canonicalDecimal(r.carried_out),
    lines: lines
      .filter((l) => l.statement_id === r.id)
      .map((l) => ({
        ruleId: l.rule_id,
        kind: l.kind,
        ruleAmount: canonicalDecimal(l.rule_amount),
        percent: canonicalDecimal(l.percent),
        amount: canonicalDecimal(l.amount),
      })),
    createdAt: r.created_at,
  }));
}

async function one(db: Knex, where: Record<string, string>): Promise<RevenueStatement | undefined> {
  const row: StatementRow | undefined = await db('revenue_statements').where(where).first();
  return row && (await withLines(db, [row]))[0];
}

export const findStatement = (db: Knex, id: string) => one(db, { id });

export const getStatement = (db: Knex, organizationId: string, id: string) =>
  one(db, { organization_id: organizationId, id });

export const statementOf = (db: Knex, partyId: string, period: string) =>
  one(db, { party_id: partyId, period });

export async function listStatements(
  db: Knex,
  organizationId: string,
  filter: { partyId?: string; period?: string },
  page: PageRequest,
): Promise<Page<RevenueStatement>> {
  const query = db<StatementRow>('revenue_statements').where({ organization_id: organizationId });
  if (filter.partyId !== undefined) query.where({ party_id: filter.partyId });
  if (filter.period !== undefined) query.where({ period: filter.period });
  if (page.startingAfter !== undefined) query.where('id', '>', page.startingAfter);
  const rows: StatementRow[] = await query.orderBy('id').limit(page.limit + 1);
  return { hasMore: rows.length > page.limit, data: await withLines(db, rows.slice(0, page.limit)) };
}

/** Whether the organization's month has been settled (its statements made). */
export async function isSettled(db: Knex, organizationId: string, period: string): Promise<boolean> {
  return !!(await db('revenue_statements').where({ organization_id: organizationId, period }).first('id'));
}

/** The latest month the organization's revenue was settled for, if any. */
export async function latestSettledPeriod(db: Knex, organizationId: string): Promise<string | undefined> {
  const row = await db('revenue_statements')
    .where({ organization_id: organizationId })
    .max('period as period');
  return row[0]?.period ?? undefined;
}

/**
 * The party's statement of the period, settling the organization's month first when nobody has yet.
 * Undefined when the party does not exist; PeriodOutOfOrderError when a later month is settled already.
 */
export async function computeStatement(
  db: Knex,
  partyId: string,
  period: string,
): Promise<RevenueStatement | undefined> {
  return db.transaction(async (trx) => {
    const party = await trx('revenue_parties').where({ id: partyId }).first('organization_id');
    if (!party) return undefined;
    await lockRevenueSharing(trx, party.organization_id);
    const existing = await statementOf(trx, partyId, period);
    if (existing) return existing;
    const org = (await getOrganization(trx, party.organization_id))!;
    if (await isSettled(trx, org.id, period)) {
      // The month was settled before this party existed: it had no part in it, only what it carries.
      await writeStatement(trx, org, partyId, period, emptyShare(), await activeShareRules(trx, org.id));
    } else {
      const later = await latestSettledPeriod(trx, org.id);
      if (later !== undefined && later > period) throw new PeriodOutOfOrderError(period, later);
      await settle(trx, org, period);
    }
    return statementOf(trx, partyId, period);
  });
}

interface PartyShare {
  base: Dec;
  adjustments: Dec;
  lines: StatementLine[];
}

const emptyShare = (): PartyShare => ({ base: new Dec(0), adjustments: new Dec(0), lines: [] });

/** Shares the month's revenue and writes every party's statement; runs under the organization's lock. */
async function settle(trx: Knex.Transaction, org: Organization, period: string): Promise<void> {
  const { end } = periodBounds(org.timeZone, period);
  const rules = await activeShareRules(trx, org.id);
  if (rules.length > 0) await claimSessions(trx, org, period, end, rules);
  await claimCredits(trx, org.id, period);

  // Per rule: the sessions shared now less their credits, and the credits of sessions shared before.
  const totals = new Map<string, { base: Dec; adjustment: Dec }>();
  const total = (ruleId: string) => {
    let t = totals.get(ruleId);
    if (!t) totals.set(ruleId, (t = { base: new Dec(0), adjustment: new Dec(0) }));
    return t;
  };
  const sessions = await trx('revenue_shared_sessions')
    .where({ organization_id: org.id, period })
    .groupBy('rule_id')
    .select('rule_id', trx.raw('sum(amount) AS amount'));
  for (const s of sessions) total(s.rule_id).base = total(s.rule_id).base.add(s.amount);
  const credits = await trx('revenue_shared_credits')
    .where({ organization_id: org.id, period })
    .groupBy('rule_id', 'kind')
    .select('rule_id', 'kind', trx.raw('sum(amount) AS amount'));
  for (const c of credits) {
    const t = total(c.rule_id);
    if (c.kind === 'base') t.base = t.base.sub(c.amount);
    else t.adjustment = t.adjustment.sub(c.amount);
  }

  const byId = await shareRulesById(trx, [...totals.keys()]);
  const shares = new Map<string, PartyShare>();
  for (const ruleId of [...totals.keys()].sort()) {
    const rule = byId.get(ruleId)!;
    for (const kind of ['base', 'adjustment'] as const) {
      const amount = totals.get(ruleId)![kind];
      if (amount.isZero()) continue;
      const parts = splitByPercent(
        amount,
        rule.splits.map((s) => s.percent),
        rule.currency,
      );
      rule.splits.forEach((split, i) => {
        const share = shares.get(split.partyId) ?? emptyShare();
        if (kind === 'base') share.base = share.base.add(parts[i]);
        else share.adjustments = share.adjustments.add(parts[i]);
        share.lines.push({
          ruleId,
          kind,
          ruleAmount: amount.toString(),
          percent: split.percent,
          amount: parts[i].toString(),
        });
        shares.set(split.partyId, share);
      });
    }
  }

  const parties: string[] = await trx('revenue_parties')
    .where({ organization_id: org.id })
    .orderBy('id')
    .pluck('id');
  for (const partyId of parties) {
    await writeStatement(trx, org, partyId, period, shares.get(partyId) ?? emptyShare(), rules);
  }
}

/**
 * Claims the sessions not shared yet that ended before the period's end, each for the rule that applies to
 * it: its site's, else its project's, in the receipt's currency and from the rule's first month.
 */
async function claimSessions(
  trx: Knex.Transaction,
  org: Organization,
  period: string,
  end: Date,
  rules: ShareRule[],
): Promise<void> {
  const values = rules.map(() => '(?::text, ?::text, ?::text, ?::text, ?::timestamptz)').join(', ');
  const ruleBindings = rules.flatMap((r) => [
    r.id,
    r.siteId,
    r.projectId,
    r.currency,
    periodBounds(org.timeZone, r.effectiveFrom).start,
  ]);
  await trx.raw(
    `WITH rules (rule_id, site_id, project_id, currency, starts_at) AS (VALUES ${values})
     INSERT INTO revenue_shared_sessions (session_id, organization_id, period, rule_id, amount)
     SELECT s.id, s.organization_id, ?, COALESCE(sr.rule_id, pr.rule_id), r.total_excl_vat
     FROM charging_sessions s
     JOIN receipts r ON r.session_id = s.id
     JOIN charge_points cp ON cp.id = s.charge_point_id
     JOIN sites st ON st.id = cp.site_id
     LEFT JOIN rules sr
       ON sr.site_id = cp.site_id AND sr.currency = r.currency::text AND s.stopped_at >= sr.starts_at
     LEFT JOIN rules pr
       ON pr.project_id = st.project_id AND pr.currency = r.currency::text AND s.stopped_at >= pr.starts_at
     WHERE s.organization_id = ? AND s.stopped_at < ?
       AND (sr.rule_id IS NOT NULL OR pr.rule_id IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM revenue_shared_sessions x WHERE x.session_id = s.id)`,
    [...ruleBindings, period, org.id, end],
  );
}

/** Claims the credit notes of shared sessions not taken off yet, whenever they were issued. */
async function claimCredits(trx: Knex.Transaction, organizationId: string, period: string): Promise<void> {
  await trx.raw(
    `INSERT INTO revenue_shared_credits (credit_note_id, organization_id, session_id, period, rule_id, kind, amount)
     SELECT cn.id, cn.organization_id, cn.session_id, ?, x.rule_id,
            CASE WHEN x.period = ? THEN 'base' ELSE 'adjustment' END, cn.total_excl_vat
     FROM credit_notes cn
     JOIN revenue_shared_sessions x ON x.session_id = cn.session_id
     WHERE cn.organization_id = ?
       AND NOT EXISTS (SELECT 1 FROM revenue_shared_credits c WHERE c.credit_note_id = cn.id)`,
    [period, period, organizationId],
  );
}

async function writeStatement(
  trx: Knex.Transaction,
  org: Organization,
  partyId: string,
  period: string,
  share: PartyShare,
  activeRules: ShareRule[],
): Promise<void> {
  const previous = await trx('revenue_statements')
    .where({ party_id: partyId })
    .where('period', '<', period)
    .orderBy('period', 'desc')
    .first('carried_out');
  const carriedIn = new Dec(previous?.carried_out ?? 0);
  const minimum = activeRules
    .filter((r) => r.splits.some((s) => s.partyId === partyId))
    .reduce((max, r) => Dec.max(max, r.minimumPayout), new Dec(0));
  const currency = (await partyCurrencies(trx, [partyId])).get(partyId) ?? org.currency;
  const balance = carriedIn.add(share.base).add(share.adjustments);
  const payout = balance.gt(0) && balance.gte(minimum) ? balance : new Dec(0);
  const id = newId('stmt');
  await trx('revenue_statements').insert({
    id,
    organization_id: org.id,
    party_id: partyId,
    period,
    currency,
    base_amount: share.base.toString(),
    adjustments: share.adjustments.toString(),
    carried_in: carriedIn.toString(),
    balance: balance.toString(),
    minimum_payout: minimum.toString(),
    payout_amount: payout.toString(),
    carried_out: balance.sub(payout).toString(),
  });
  if (share.lines.length > 0) {
    await trx('revenue_statement_lines').insert(
      share.lines.map((l, position) => ({
        statement_id: id,
        position,
        rule_id: l.ruleId,
        kind: l.kind,
        rule_amount: l.ruleAmount,
        percent: l.percent,
        amount: l.amount,
      })),
    );
  }
}
