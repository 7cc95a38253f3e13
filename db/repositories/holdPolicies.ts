import type { Knex } from 'knex';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';

// How much a session holds on the driver's card, and what happens when its running cost nears the hold.
// The most specific policy that matches wins (charge point, then site, then power class, then the
// organization's default); for the same scope a policy naming the driver's user type wins over one that
// does not. Without any policy the charge point's own hold amount applies, as before policies existed.

export type OnLimit = 'stop' | 'charge_after';

export interface HoldPolicy {
  id: string;
  organizationId: string;
  chargePointId: string | null;
  siteId: string | null;
  powerClass: 'AC' | 'DC' | null;
  userType: string | null;
  amount: string;
  currency: string;
  incrementAtPercent: string;
  onLimit: OnLimit;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  organization_id: string;
  charge_point_id: string | null;
  site_id: string | null;
  power_class: 'AC' | 'DC' | null;
  user_type: string | null;
  amount: string;
  currency: string;
  increment_at_percent: string;
  on_limit: OnLimit;
  created_at: Date;
  updated_at: Date;
}

const toPolicy = (r: Row): HoldPolicy => ({
  id: r.id,
  organizationId: r.organization_id,
  chargePointId: r.charge_point_id,
  siteId: r.site_id,
  powerClass: r.power_class,
  userType: r.user_type,
  amount: canonicalDecimal(r.amount),
  currency: r.currency,
  incrementAtPercent: canonicalDecimal(r.increment_at_percent),
  onLimit: r.on_limit,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface HoldScope {
  chargePointId?: string | null;
  siteId?: string | null;
  powerClass?: 'AC' | 'DC' | null;
  userType?: string | null;
}

export async function listHoldPolicies(db: Knex, organizationId: string): Promise<HoldPolicy[]> {
  const rows = await db<Row>('hold_policies').where({ organization_id: organizationId }).orderBy('id');
  return rows.map(toPolicy);
}

export async function getHoldPolicy(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<HoldPolicy | undefined> {
  const row = await db<Row>('hold_policies').where({ organization_id: organizationId, id }).first();
  return row && toPolicy(row);
}

/** Sets the policy of a scope, replacing the one it had; answers the policy and the one it replaced. */
export async function putHoldPolicy(
  trx: Knex,
  organizationId: string,
  scope: HoldScope,
  p: { amount: string; currency: string; incrementAtPercent: string; onLimit: OnLimit },
): Promise<{ policy: HoldPolicy; previous: HoldPolicy | null }> {
  const key = {
    organization_id: organizationId,
    charge_point_id: scope.chargePointId ?? null,
    site_id: scope.siteId ?? null,
    power_class: scope.powerClass ?? null,
    user_type: scope.userType ?? null,
  };
  const previous = await trx<Row>('hold_policies').where(key).forUpdate().first();
  const values = {
    amount: p.amount,
    currency: p.currency,
    increment_at_percent: p.incrementAtPercent,
    on_limit: p.onLimit,
    updated_at: trx.fn.now(),
  };
  const [row] = previous
    ? await trx<Row>('hold_policies').where({ id: previous.id }).update(values).returning('*')
    : await trx<Row>('hold_policies')
        .insert({ id: newId('hp'), ...key, ...values })
        .returning('*');
  return { policy: toPolicy(row), previous: previous ? toPolicy(previous) : null };
}

export async function deleteHoldPolicy(
  trx: Knex,
  organizationId: string,
  id: string,
): Promise<HoldPolicy | undefined> {
  const [row] = await trx<Row>('hold_policies')
    .where({ organization_id: organizationId, id })
    .delete()
    .returning('*');
  return row && toPolicy(row);
}

function specificity(p: HoldPolicy): number {
  const scope = p.chargePointId ? 3 : p.siteId ? 2 : p.powerClass ? 1 : 0;
  return scope * 2 + (p.userType ? 1 : 0);
}

/** The policy that applies to a session, or undefined when the organization has none that matches. */
export async function resolveHoldPolicy(
  db: Knex,
  at: { organizationId: string; chargePointId: string; userType: string | null },
): Promise<HoldPolicy | undefined> {
  const cp = await db('charge_points').where({ id: at.chargePointId }).first('site_id', 'power_type');
  const candidates = (await listHoldPolicies(db, at.organizationId)).filter(
    (p) =>
      (p.chargePointId === null || p.chargePointId === at.chargePointId) &&
      (p.siteId === null || p.siteId === cp?.site_id) &&
      (p.powerClass === null || p.powerClass === cp?.power_type) &&
      (p.userType === null || p.userType === at.userType),
  );
  return candidates.sort((a, b) => specificity(b) - specificity(a))[0];
}

/**
 * What a session holds: the matching policy's amount when the policy is in the tariff's currency (another
 * currency cannot be held), else the charge point's own hold amount. `policy` is the one that applies.
 */
export async function holdFor(
  db: Knex,
  at: {
    organizationId: string;
    chargePointId: string;
    userType: string | null;
    currency: string;
    fallback: string;
  },
): Promise<{ amount: string; policy: HoldPolicy | undefined }> {
  const found = await resolveHoldPolicy(db, at);
  const policy = found && found.currency === at.currency ? found : undefined;
  return { amount: policy?.amount ?? at.fallback, policy };
}
