import { epochDayOf, localFields, wallToInstant, zoneOffsetMs, type LocalFields } from './local-time';
import { DAYS_OF_WEEK, type RatingPeriod, type RestrictionsDef, type TariffDefinition } from './model';
import { parseOcpiDateTime } from './tariff-definition';

// OCPI 2.2.1 TariffRestrictions, evaluated at the START of a charging period: a CPO (or our meter
// timeline) starts a new period at every moment a restriction can change (mod_cdrs "ChargingPeriod"),
// so the state at the start holds for the whole period. Bounds follow the spec: every min_* is
// inclusive, every max_* exclusive (min_duration "(inclusive)", max_duration "(exclusive)"; min_kwh
// "valid from", max_kwh "valid until"; end_date "(exclusive)"; end_time "valid until").

const DAY_MS = 86_400_000;
const DAY_SECONDS = 86_400;

/** A restriction set in the form the rating loop checks without parsing anything. */
export interface CompiledRestrictions {
  /** Reservation elements price reservations, never a charging or parking period. */
  reservation: boolean;
  startSec?: number;
  /** 86,400 when end_time is "00:00": the end of the day. */
  endSec?: number;
  startDay?: number;
  endDay?: number;
  /** Bit i set = DAYS_OF_WEEK[i] allowed; 0 = any day. */
  dowMask: number;
  minMWh?: number;
  maxMWh?: number;
  minDurationMs?: number;
  maxDurationMs?: number;
  minPowerKw?: number;
  maxPowerKw?: number;
  minCurrentA?: number;
  maxCurrentA?: number;
  /** Time of day, date or day of week restricted: the check needs the local time. */
  needsLocal: boolean;
}

function secondsOf(time: string): number {
  return Number(time.slice(0, 2)) * 3600 + Number(time.slice(3, 5)) * 60;
}

function kwhToMWh(kwh: number): number {
  // Validated kWh values have at most 6 decimals, so the nearest integer is the exact value.
  return Math.round(kwh * 1_000_000);
}

export function compileRestrictions(r: RestrictionsDef | undefined): CompiledRestrictions {
  if (!r) return { reservation: false, dowMask: 0, needsLocal: false };
  const c: CompiledRestrictions = { reservation: r.reservation !== undefined, dowMask: 0, needsLocal: false };
  if (r.start_time !== undefined) c.startSec = secondsOf(r.start_time);
  if (r.end_time !== undefined) c.endSec = secondsOf(r.end_time) || DAY_SECONDS;
  if (r.start_date !== undefined) c.startDay = epochDayOf(r.start_date);
  if (r.end_date !== undefined) c.endDay = epochDayOf(r.end_date);
  for (const day of r.day_of_week ?? []) c.dowMask |= 1 << DAYS_OF_WEEK.indexOf(day);
  if (r.min_kwh !== undefined) c.minMWh = kwhToMWh(r.min_kwh);
  if (r.max_kwh !== undefined) c.maxMWh = kwhToMWh(r.max_kwh);
  if (r.min_duration !== undefined) c.minDurationMs = r.min_duration * 1000;
  if (r.max_duration !== undefined) c.maxDurationMs = r.max_duration * 1000;
  c.minPowerKw = r.min_power;
  c.maxPowerKw = r.max_power;
  c.minCurrentA = r.min_current;
  c.maxCurrentA = r.max_current;
  c.needsLocal =
    c.startSec !== undefined ||
    c.endSec !== undefined ||
    c.startDay !== undefined ||
    c.endDay !== undefined ||
    c.dowMask !== 0;
  return c;
}

/** What a restriction set is checked against: the state at the start of one period. */
export interface MatchState {
  /** Local time at the period start; may be omitted when the restrictions need none. */
  local?: LocalFields;
  /** Energy of the session before this period, mWh. */
  energyBeforeMWh: number;
  /** Period start minus session start, ms. */
  durationMs: number;
  period: Pick<RatingPeriod, 'minPowerKw' | 'maxPowerKw' | 'minCurrentA' | 'maxCurrentA'>;
}

/**
 * Power and current: min_power/min_current are compared with the period's minimum and max_power/
 * max_current with its maximum (the OCPI Complex Tariff example reads "uses a maximum of 16A" against
 * "less than 32A" and "a minimum of 43A" against "more than 32A"). When the period carries only one of the
 * two, that one stands for both. When it carries neither, a power or current restriction cannot be shown to
 * hold and does not match, so the next element (normally an unrestricted fallback) prices the period.
 */
function withinMeasured(
  min: number | undefined,
  max: number | undefined,
  low: number | undefined,
  high: number | undefined,
): boolean {
  if (min === undefined && max === undefined) return true;
  const lowValue = low ?? high;
  const highValue = high ?? low;
  if (lowValue === undefined || highValue === undefined) return false;
  if (min !== undefined && !(lowValue >= min)) return false;
  if (max !== undefined && !(highValue < max)) return false;
  return true;
}

export function matchesCompiled(c: CompiledRestrictions, s: MatchState): boolean {
  if (c.reservation) return false;
  if (c.needsLocal) {
    const local = s.local;
    if (!local) throw new Error('local time is needed to check time, date or day-of-week restrictions');
    if (c.dowMask !== 0 && (c.dowMask & (1 << local.dayIndex)) === 0) return false;
    if (c.startDay !== undefined && local.epochDay < c.startDay) return false;
    if (c.endDay !== undefined && local.epochDay >= c.endDay) return false;
    const sec = local.secondOfDay;
    if (c.startSec !== undefined && c.endSec !== undefined) {
      // end_time before start_time: the window runs over midnight (22:00-06:00).
      const inside =
        c.startSec < c.endSec ? sec >= c.startSec && sec < c.endSec : sec >= c.startSec || sec < c.endSec;
      if (!inside) return false;
    } else if (c.startSec !== undefined) {
      if (sec < c.startSec) return false;
    } else if (c.endSec !== undefined) {
      if (sec >= c.endSec) return false;
    }
  }
  if (c.minMWh !== undefined && s.energyBeforeMWh < c.minMWh) return false;
  if (c.maxMWh !== undefined && s.energyBeforeMWh >= c.maxMWh) return false;
  if (c.minDurationMs !== undefined && s.durationMs < c.minDurationMs) return false;
  if (c.maxDurationMs !== undefined && s.durationMs >= c.maxDurationMs) return false;
  const p = s.period;
  if (!withinMeasured(c.minPowerKw, c.maxPowerKw, p.minPowerKw, p.maxPowerKw)) return false;
  if (!withinMeasured(c.minCurrentA, c.maxCurrentA, p.minCurrentA, p.maxCurrentA)) return false;
  return true;
}

export interface MatchContext {
  timeZone: string;
  sessionStartMs: number;
  /** Energy consumed in the session before the period, mWh. */
  energyBeforeMWh: number;
  period: RatingPeriod;
}

/** Do these restrictions (absent = none) hold at the start of the period? */
export function restrictionsMatch(restrictions: RestrictionsDef | undefined, ctx: MatchContext): boolean {
  const c = compileRestrictions(restrictions);
  return matchesCompiled(c, {
    local: c.needsLocal ? localFields(ctx.timeZone, ctx.period.startMs) : undefined,
    energyBeforeMWh: ctx.energyBeforeMWh,
    durationMs: ctx.period.startMs - ctx.sessionStartMs,
    period: ctx.period,
  });
}

function sortedUnique(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function pricingRestrictions(tariff: TariffDefinition): RestrictionsDef[] {
  return tariff.elements
    .map((e) => e.restrictions)
    .filter((r): r is RestrictionsDef => r !== undefined && r.reservation === undefined);
}

/** min_kwh / max_kwh of the tariff as integer mWh, sorted, each once. */
export function energyThresholdsMWh(tariff: TariffDefinition): number[] {
  const out: number[] = [];
  for (const r of pricingRestrictions(tariff)) {
    if (r.min_kwh !== undefined) out.push(kwhToMWh(r.min_kwh));
    if (r.max_kwh !== undefined) out.push(kwhToMWh(r.max_kwh));
  }
  return sortedUnique(out);
}

/** min_duration / max_duration of the tariff as integer ms, sorted, each once. */
export function durationThresholdsMs(tariff: TariffDefinition): number[] {
  const out: number[] = [];
  for (const r of pricingRestrictions(tariff)) {
    if (r.min_duration !== undefined) out.push(r.min_duration * 1000);
    if (r.max_duration !== undefined) out.push(r.max_duration * 1000);
  }
  return sortedUnique(out);
}

/**
 * Every instant strictly between fromMs and toMs at which a time-of-day, date or day-of-week restriction
 * of the tariff, or the tariff's validity (start_date_time / end_date_time), can change whether an element
 * matches. Cutting the session's periods at exactly these instants (and at the energy and duration
 * thresholds) leaves every period with one matching element per dimension. DST is handled: a wall-clock
 * boundary that occurs twice (fall back) yields both instants, one that does not exist (spring forward)
 * yields the jump, and every DST change in the range is a cut itself, because local time jumps there.
 */
export function restrictionCuts(
  tariff: TariffDefinition,
  tz: string,
  fromMs: number,
  toMs: number,
): number[] {
  const out: number[] = [];
  const inRange = (t: number) => t > fromMs && t < toMs;
  for (const key of ['start_date_time', 'end_date_time'] as const) {
    const text = tariff[key];
    const t = text === undefined ? undefined : parseOcpiDateTime(text);
    if (t !== undefined && inRange(t)) out.push(t);
  }
  const daily = new Set<number>();
  const dates = new Set<number>();
  let local = false;
  for (const r of pricingRestrictions(tariff)) {
    const c = compileRestrictions(r);
    if (!c.needsLocal) continue;
    local = true;
    if (c.startSec !== undefined) daily.add(c.startSec);
    if (c.endSec !== undefined) daily.add(c.endSec % DAY_SECONDS);
    if (c.dowMask !== 0) daily.add(0);
    if (c.startDay !== undefined) dates.add(c.startDay);
    if (c.endDay !== undefined) dates.add(c.endDay);
  }
  if (local && toMs > fromMs) {
    const firstDay = localFields(tz, fromMs).epochDay;
    const lastDay = localFields(tz, toMs).epochDay;
    for (let day = firstDay; day <= lastDay; day++) {
      const seconds = dates.has(day) ? new Set([...daily, 0]) : daily;
      for (const sec of seconds) {
        for (const t of wallInstants(tz, day * DAY_MS + sec * 1000)) if (inRange(t)) out.push(t);
      }
    }
    for (const t of offsetChanges(tz, fromMs, toMs)) if (inRange(t)) out.push(t);
  }
  return sortedUnique(out);
}

/** Every instant at which the wall clock reads `wall` (two in an overlap), or the jump over it in a gap. */
function wallInstants(tz: string, wall: number): number[] {
  const first = wallToInstant(tz, wall);
  const out = [first];
  // A later occurrence exists only in a fall-back overlap, at most a few hours after the first.
  for (const o of new Set([zoneOffsetMs(tz, first + 6 * 3_600_000), zoneOffsetMs(tz, first + 3_600_000)])) {
    const t = wall - o;
    if (t > first && zoneOffsetMs(tz, t) === o) out.push(t);
  }
  return out;
}

/** Instants in [fromMs, toMs] where the zone's offset changes (DST), found by bisection per day. */
function offsetChanges(tz: string, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let start = fromMs; start < toMs; start += DAY_MS) {
    const end = Math.min(start + DAY_MS, toMs);
    let lo = start;
    let hi = end;
    const before = zoneOffsetMs(tz, lo);
    if (zoneOffsetMs(tz, hi) === before) continue;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (zoneOffsetMs(tz, mid) === before) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  return out;
}
