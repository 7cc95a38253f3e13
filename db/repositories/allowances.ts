import { periodBounds, periodOf, previousPeriod } from '../../pricing/calendar-months';
import type { Knex } from 'knex';
import { recordEvent } from './events';
import { Dec } from '../../pricing/money';
import { canonicalDecimal } from './decimals';

// A monthly energy allowance: the first monthly_kwh of a calendar month (in the organization's time zone)
// are free. Usage is kept per (user, month), so a new month starts from zero and nothing rolls over.

export interface EnergyAllowance {
  userId: string;
  organizationId: string;
  monthlyKwh: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Snake case, like the API: the activities and the API route hand it on without renaming. */
export interface AllowanceStatus {
  user_id: string;
  time_zone: string;
  /** Calendar month in the organization's time zone, 'YYYY-MM'. */
  period: string;
  allowance_kwh: string;
  used_kwh: string;
  remaining_kwh: string;
  period_start: Date;
  /** Start of the next period: when remaining_kwh goes back to allowance_kwh. */
  resets_at: Date;
}

export interface AllowanceGrant {
  period: string;
  /** The part of the requested energy that is free. */
  grantedKwh: string;
  remainingKwh: string;
}

interface AllowanceRow {
  user_id: string;
  organization_id: string;
  monthly_kwh: string;
  created_at: Date;
  updated_at: Date;
}

interface ConsumptionRow {
  session_id: string;
  user_id: string;
  period: string;
  kwh: string;
}

// allowance_usage.used_kwh and allowance_consumptions.kwh are numeric(12,6).
const KWH_DECIMALS = 6;

const toAllowance = (row: AllowanceRow): EnergyAllowance => ({
  userId: row.user_id,
  organizationId: row.organization_id,
  monthlyKwh: canonicalDecimal(row.monthly_kwh),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

function nonNegativeKwh(value: string, what: string, decimals: number): Dec {
  const kwh = new Dec(value);
  if (!kwh.isFinite() || kwh.isNegative()) throw new RangeError(`${what} must be ≥ 0: ${value}`);
  if (kwh.decimalPlaces() > decimals) throw new RangeError(`${what} has more than ${decimals} decimals`);
  return kwh;
}

/** Sets (or replaces) the user's monthly allowance; undefined when the user is not the organization's. */
export async function setAllowance(
  db: Knex,
  organizationId: string,
  userId: string,
  monthlyKwh: string,
): Promise<EnergyAllowance | undefined> {
  const kwh = nonNegativeKwh(monthlyKwh, 'monthlyKwh', 3).toFixed();
  const user = await db('users').where({ id: userId, organization_id: organizationId }).first('id');
  if (!user) return undefined;
  const [row] = await db<AllowanceRow>('energy_allowances')
    .insert({ user_id: userId, organization_id: organizationId, monthly_kwh: kwh })
    .onConflict('user_id')
    .merge({ monthly_kwh: kwh, updated_at: db.fn.now() })
    .returning('*');
  return toAllowance(row);
}

interface UserAllowanceRow {
  organization_id: string;
  time_zone: string;
  monthly_kwh: string | null;
}

function userAllowance(db: Knex, userId: string): Promise<UserAllowanceRow | undefined> {
  return db('users as u')
    .join('organizations as o', 'o.id', 'u.organization_id')
    .leftJoin('energy_allowances as e', 'e.user_id', 'u.id')
    .where('u.id', userId)
    .first('u.organization_id', 'o.time_zone', 'e.monthly_kwh');
}

async function usedIn(db: Knex, userId: string, period: string): Promise<Dec> {
  const row = await db('allowance_usage').where({ user_id: userId, period }).first('used_kwh');
  return new Dec(row?.used_kwh ?? 0);
}

const remaining = (allowance: Dec, used: Dec) => Dec.max(0, allowance.minus(used));

/** The allowance for the month `at` falls in; undefined when the user has none (or is not the organization's). */
export async function getAllowanceStatus(
  db: Knex,
  organizationId: string,
  userId: string,
  at: Date,
): Promise<AllowanceStatus | undefined> {
  const row = await userAllowance(db, userId);
  if (!row || row.organization_id !== organizationId || row.monthly_kwh === null) return undefined;
  const period = periodOf(row.time_zone, at);
  const { start, end } = periodBounds(row.time_zone, period);
  const allowance = new Dec(row.monthly_kwh);
  const used = await usedIn(db, userId, period);
  return {
    user_id: userId,
    time_zone: row.time_zone,
    period,
    allowance_kwh: allowance.toFixed(),
    used_kwh: used.toFixed(),
    remaining_kwh: remaining(allowance, used).toFixed(),
    period_start: start,
    resets_at: end,
  };
}

export interface ConsumeInput {
  userId: string;
  sessionId: string;
  /** The instant that decides the month, e.g. the session's start. */
  at: Date;
  /** Decimal string, at most 6 decimals (a Wh meter reading divided by 1000 has at most 3). */
  requestedKwh: string;
}

async function grantOf(trx: Knex, consumption: ConsumptionRow): Promise<AllowanceGrant> {
  const row = await trx('energy_allowances').where({ user_id: consumption.user_id }).first('monthly_kwh');
  const allowance = new Dec(row?.monthly_kwh ?? 0);
  const used = await usedIn(trx, consumption.user_id, consumption.period);
  return {
    period: consumption.period,
    grantedKwh: canonicalDecimal(consumption.kwh),
    remainingKwh: remaining(allowance, used).toFixed(),
  };
}

const consumptionOf = (trx: Knex, sessionId: string): Promise<ConsumptionRow | undefined> =>
  trx<ConsumptionRow>('allowance_consumptions').where({ session_id: sessionId }).first();

/**
 * Takes up to requestedKwh from the user's allowance for the month of `at`, atomically: concurrent sessions
 * of one user queue on the month's usage row, so together they never get more than the allowance.
 * Idempotent by session: a retry answers the first grant (and the remaining kWh as of now).
 */
export async function consumeAllowance(db: Knex, input: ConsumeInput): Promise<AllowanceGrant> {
  const requested = nonNegativeKwh(input.requestedKwh, 'requestedKwh', KWH_DECIMALS);
  return db.transaction(async (trx) => {
    const first = await consumptionOf(trx, input.sessionId);
    if (first) return grantOf(trx, first);
    const user = await userAllowance(trx, input.userId);
    if (!user) throw new Error(`no such user: ${input.userId}`);
    const period = periodOf(user.time_zone, input.at);
    const key = { user_id: input.userId, period };

    if (user.monthly_kwh === null) {
      // Recorded all the same so that a retry after an allowance is set still answers this first grant.
      const inserted = await trx('allowance_consumptions')
        .insert({ session_id: input.sessionId, ...key, kwh: 0 })
        .onConflict('session_id')
        .ignore()
        .returning('session_id');
      if (inserted.length === 0) return grantOf(trx, (await consumptionOf(trx, input.sessionId))!);
      return { period, grantedKwh: '0', remainingKwh: '0' };
    }

    await trx('allowance_usage')
      .insert({ ...key, used_kwh: 0 })
      .onConflict(['user_id', 'period'])
      .ignore();
    const usage = await trx('allowance_usage').where(key).first('used_kwh').forUpdate();
    // Read under the lock, so a concurrent change of the allowance is seen by the next consumer in line.
    const current = await trx('energy_allowances').where({ user_id: input.userId }).first('monthly_kwh');
    const allowance = new Dec(current.monthly_kwh);
    const used = new Dec(usage.used_kwh);
    const granted = Dec.max(0, Dec.min(requested, allowance.minus(used)));

    // A retry of this session that got the lock first has committed its consumption: answer that one.
    const inserted = await trx('allowance_consumptions')
      .insert({ session_id: input.sessionId, ...key, kwh: granted.toFixed() })
      .onConflict('session_id')
      .ignore()
      .returning('session_id');
    if (inserted.length === 0) return grantOf(trx, (await consumptionOf(trx, input.sessionId))!);

    const nowUsed = used.plus(granted);
    await trx('allowance_usage').where(key).update({ used_kwh: nowUsed.toFixed(), updated_at: trx.fn.now() });
    return { period, grantedKwh: granted.toFixed(), remainingKwh: remaining(allowance, nowUsed).toFixed() };
  });
}

/** What a session got from the allowance, if it asked. */
export async function getConsumption(db: Knex, sessionId: string): Promise<AllowanceGrant | undefined> {
  const row = await consumptionOf(db, sessionId);
  return row && grantOf(db, row);
}

export interface AllowanceReset {
  /** Usage rows of the month before that were closed now (0 when a re-run finds them closed). */
  closed: number;
  /** Users with an allowance whose new month was opened now. */
  opened: number;
}

/**
 * Closes the month before `period` with the allowance in force, and opens `period` at zero for every user of
 * the organization with an allowance. Idempotent: a re-run closes and opens nothing twice. Readings of a
 * session that arrives late still count in the month it started (consumeAllowance), closed or not.
 */
export async function resetAllowances(
  db: Knex,
  organizationId: string,
  period: string,
): Promise<AllowanceReset> {
  const previous = previousPeriod(period);
  return db.transaction(async (trx) => {
    const closed = await trx('allowance_usage as u')
      .whereIn(
        'u.user_id',
        trx('energy_allowances').where({ organization_id: organizationId }).select('user_id'),
      )
      .where('u.period', previous)
      .whereNull('u.closed_at')
      .update({
        closed_at: trx.fn.now(),
        allowance_kwh: trx.raw('(SELECT monthly_kwh FROM energy_allowances a WHERE a.user_id = u.user_id)'),
      });
    const opened = await trx.raw(
      `INSERT INTO allowance_usage (user_id, period, used_kwh)
       SELECT user_id, ?, 0 FROM energy_allowances WHERE organization_id = ?
       ON CONFLICT (user_id, period) DO NOTHING`,
      [period, organizationId],
    );
    const reset = { closed, opened: opened.rowCount ?? 0 };
    await recordEvent(trx, {
      organizationId,
      type: 'allowance.reset',
      objectType: 'allowance_period',
      objectId: `${organizationId}:${period}`,
      object: { period, closed_period: previous, users_closed: reset.closed, users_opened: reset.opened },
    });
    return reset;
  });
}

export interface AllowancePeriod {
  period: string;
  usedKwh: string;
  allowanceKwh: string | null;
  closedAt: Date | null;
}

/** The user's months, newest first: what each used, and the allowance it closed with. */
export async function allowanceHistory(db: Knex, userId: string, limit = 24): Promise<AllowancePeriod[]> {
  const rows = await db('allowance_usage').where({ user_id: userId }).orderBy('period', 'desc').limit(limit);
  return rows.map((r) => ({
    period: r.period,
    usedKwh: canonicalDecimal(r.used_kwh),
    allowanceKwh: r.allowance_kwh === null ? null : canonicalDecimal(r.allowance_kwh),
    closedAt: r.closed_at,
  }));
}
