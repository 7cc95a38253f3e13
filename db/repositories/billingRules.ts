import type { Knex } from 'knex';
import { IdPrefix, newId } from '../ids';
import type { BillingRule, BillingRuleInput, RuleAction, RuleConditions } from '../../pricing/rules';
import { fetchPage, Page, PageRequest } from './pagination';

// The ids.ts prefix list does not name billing rules yet.
const RULE_PREFIX: IdPrefix = 'rule';
const RULE_VERSION_PREFIX: IdPrefix = 'rulev';

/** One immutable version of a rule: exactly pricing/'s BillingRule, plus when it was written. */
export interface BillingRuleVersionRecord extends BillingRule {
  createdAt: Date;
}

export interface StoredBillingRule {
  id: string;
  organizationId: string;
  createdAt: Date;
  /** A disabled rule applies to no session that starts afterwards; it cannot be edited any more. */
  disabledAt: Date | null;
  /** The latest version: what the rule is now. */
  currentVersion: BillingRuleVersionRecord;
  /** All versions, oldest first. */
  versions: BillingRuleVersionRecord[];
}

interface RuleRow {
  id: string;
  organization_id: string;
  created_at: Date;
  disabled_at: Date | null;
}

interface VersionRow {
  id: string;
  rule_id: string;
  version: number;
  name: string;
  priority: number;
  stackable: boolean;
  conditions: RuleConditions;
  action: RuleAction;
  valid_from: Date | null;
  valid_until: Date | null;
  created_at: Date;
}

// Plain data only: a session's snapshot of its rules travels through workflow history.
function toRule(row: VersionRow): BillingRule {
  const rule: BillingRule = {
    id: row.rule_id,
    versionId: row.id,
    version: row.version,
    name: row.name,
    priority: row.priority,
    stackable: row.stackable,
    conditions: row.conditions,
    action: row.action,
  };
  if (row.valid_from !== null) rule.valid_from = row.valid_from.toISOString();
  if (row.valid_until !== null) rule.valid_until = row.valid_until.toISOString();
  return rule;
}

const toVersion = (row: VersionRow): BillingRuleVersionRecord => ({
  ...toRule(row),
  createdAt: row.created_at,
});

async function assemble(db: Knex, rows: RuleRow[]): Promise<StoredBillingRule[]> {
  if (rows.length === 0) return [];
  const versionRows: VersionRow[] = await db<VersionRow>('billing_rule_versions')
    .whereIn(
      'rule_id',
      rows.map((r) => r.id),
    )
    .orderBy(['rule_id', 'version']);
  return rows.map((r) => {
    const versions = versionRows.filter((v) => v.rule_id === r.id).map(toVersion);
    return {
      id: r.id,
      organizationId: r.organization_id,
      createdAt: r.created_at,
      disabledAt: r.disabled_at,
      currentVersion: versions[versions.length - 1],
      versions,
    };
  });
}

async function insertVersion(
  db: Knex,
  ruleId: string,
  version: number,
  input: BillingRuleInput,
): Promise<BillingRuleVersionRecord> {
  const [row]: VersionRow[] = await db('billing_rule_versions')
    .insert({
      id: newId(RULE_VERSION_PREFIX),
      rule_id: ruleId,
      version,
      name: input.name,
      priority: input.priority,
      stackable: input.stackable,
      // Serialized here: knex would send an array value (a list condition) as a PostgreSQL array literal.
      conditions: JSON.stringify(input.conditions),
      action: JSON.stringify(input.action),
      valid_from: input.valid_from ?? null,
      valid_until: input.valid_until ?? null,
    })
    .returning('*');
  return toVersion(row);
}

/** A rule and its version 1, in one transaction. The input is validated with checkBillingRuleInput. */
export async function createBillingRule(
  db: Knex,
  organizationId: string,
  input: BillingRuleInput,
): Promise<StoredBillingRule> {
  return db.transaction(async (trx) => {
    const [row] = await trx<RuleRow>('billing_rules')
      .insert({ id: newId(RULE_PREFIX), organization_id: organizationId })
      .returning('*');
    await insertVersion(trx, row.id, 1, input);
    return (await assemble(trx, [row]))[0];
  });
}

export type RuleEditResult =
  { version: BillingRuleVersionRecord } | { refused: 'missing' } | { refused: 'disabled'; disabledAt: Date };

/**
 * Editing a rule: versions are immutable (a database trigger refuses UPDATE and DELETE), so an edit is a new
 * version, which sessions starting from now on snapshot. Refused when the rule is not the organization's or
 * has been disabled.
 */
export async function createBillingRuleVersion(
  db: Knex,
  organizationId: string,
  ruleId: string,
  input: BillingRuleInput,
): Promise<RuleEditResult> {
  return db.transaction(async (trx) => {
    // The row lock serialises concurrent edits (consecutive version numbers) and edits with disabling.
    const rule = await trx<RuleRow>('billing_rules')
      .where({ id: ruleId, organization_id: organizationId })
      .forUpdate()
      .first();
    if (!rule) return { refused: 'missing' };
    if (rule.disabled_at !== null) return { refused: 'disabled', disabledAt: rule.disabled_at };
    const { max } = (await trx('billing_rule_versions')
      .where({ rule_id: ruleId })
      .max('version as max')
      .first()) as {
      max: number | null;
    };
    return { version: await insertVersion(trx, ruleId, (max ?? 0) + 1, input) };
  });
}

export async function getBillingRule(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<StoredBillingRule | undefined> {
  const row = await db<RuleRow>('billing_rules').where({ organization_id: organizationId, id }).first();
  return row && (await assemble(db, [row]))[0];
}

export async function listBillingRules(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { disabled?: boolean } = {},
): Promise<Page<StoredBillingRule>> {
  const query = db('billing_rules').where({ organization_id: organizationId });
  if (filter.disabled === true) query.whereNotNull('disabled_at');
  if (filter.disabled === false) query.whereNull('disabled_at');
  const result = await fetchPage(query, page, 'id', (r: RuleRow) => r);
  return { data: await assemble(db, result.data), hasMore: result.hasMore };
}

/**
 * Disabling is final and idempotent: disabling again keeps the first instant. Sessions that already started
 * keep the rule, since they priced with the snapshot taken at their start.
 */
export async function disableBillingRule(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<StoredBillingRule | undefined> {
  const [row]: RuleRow[] = await db('billing_rules')
    .where({ organization_id: organizationId, id })
    .update({ disabled_at: db.raw('coalesce(disabled_at, now())') })
    .returning('*');
  return row && (await assemble(db, [row]))[0];
}

/**
 * The rules a session starting at `at` is priced with: of every rule of the organization that is not
 * disabled, its latest version, when that version's validity contains `at` (valid_from included,
 * valid_until excluded). Ordered by priority, then rule id, the order rule evaluation runs them in.
 */
export async function loadActiveRules(db: Knex, organizationId: string, at: Date): Promise<BillingRule[]> {
  const rows: VersionRow[] = await db
    .select('v.*')
    .from('billing_rules as r')
    .join('billing_rule_versions as v', 'v.rule_id', 'r.id')
    .where('r.organization_id', organizationId)
    .whereNull('r.disabled_at')
    .whereRaw('v.version = (SELECT max(version) FROM billing_rule_versions WHERE rule_id = r.id)')
    .where((q) => q.whereNull('v.valid_from').orWhere('v.valid_from', '<=', at))
    .where((q) => q.whereNull('v.valid_until').orWhere('v.valid_until', '>', at))
    .orderBy([
      { column: 'v.priority', order: 'asc' },
      { column: 'r.id', order: 'asc' },
    ]);
  return rows.map(toRule);
}
