import { DAYS_OF_WEEK, type DayOfWeek } from './model';

// Time-zone arithmetic for tariff restrictions. Intl is the only source of zone rules (it is available
// inside Temporal workflows, unlike a tz database file), but formatToParts costs microseconds, so a zone's
// UTC offset is looked up once per 15-minute UTC bucket and cached: every real-world offset and every DST
// transition of the last century falls on a quarter hour, and a bucket that does contain a transition is
// detected (its two ends disagree) and resolved to the exact second of the change.

const BUCKET_MS = 15 * 60 * 1000;
const DAY_MS = 86_400_000;
/** Per zone; 20,000 quarter hours is about seven months of sessions, a few hundred kB at most. */
const MAX_BUCKETS_PER_ZONE = 20_000;
const MAX_ZONES = 200;

interface ZoneCache {
  format: Intl.DateTimeFormat;
  /** Offset (local minus UTC, ms) of buckets with a single offset. */
  offsets: Map<number, number>;
  /** Buckets in which the offset changes: offset before, offset from `at` on. */
  transitions: Map<number, { before: number; after: number; at: number }>;
}

const zones = new Map<string, ZoneCache>();
const validity = new Map<string, boolean>();

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz === '') return false;
  const known = validity.get(tz);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    ok = true;
  } catch {
    ok = false;
  }
  if (validity.size >= MAX_ZONES * 10) validity.clear();
  validity.set(tz, ok);
  return ok;
}

function zone(tz: string): ZoneCache {
  let cache = zones.get(tz);
  if (cache) return cache;
  if (!isValidTimeZone(tz)) throw new RangeError(`unknown IANA time zone ${JSON.stringify(tz)}`);
  cache = {
    format: new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }),
    offsets: new Map(),
    transitions: new Map(),
  };
  if (zones.size >= MAX_ZONES) zones.clear();
  zones.set(tz, cache);
  return cache;
}

/** Offset at one instant, straight from Intl (whole seconds: zone rules never go finer). */
function intlOffset(cache: ZoneCache, ms: number): number {
  const wholeSecond = Math.floor(ms / 1000) * 1000;
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const part of cache.format.formatToParts(wholeSecond)) {
    switch (part.type) {
      case 'year':
        y = Number(part.value);
        break;
      case 'month':
        mo = Number(part.value);
        break;
      case 'day':
        d = Number(part.value);
        break;
      case 'hour':
        // Some engines still print midnight as 24 even with hourCycle h23.
        h = Number(part.value) % 24;
        break;
      case 'minute':
        mi = Number(part.value);
        break;
      case 'second':
        s = Number(part.value);
        break;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - wholeSecond;
}

/** Local time minus UTC, in ms, at the instant `ms`. */
export function zoneOffsetMs(tz: string, ms: number): number {
  return offsetIn(zone(tz), ms);
}

function offsetIn(cache: ZoneCache, ms: number): number {
  const bucket = Math.floor(ms / BUCKET_MS);
  const cached = cache.offsets.get(bucket);
  if (cached !== undefined) return cached;
  const change = cache.transitions.get(bucket);
  if (change) return ms < change.at ? change.before : change.after;
  return fillBucket(cache, bucket, ms);
}

function fillBucket(cache: ZoneCache, bucket: number, ms: number): number {
  if (cache.offsets.size + cache.transitions.size >= MAX_BUCKETS_PER_ZONE) {
    cache.offsets.clear();
    cache.transitions.clear();
  }
  const start = bucket * BUCKET_MS;
  const before = intlOffset(cache, start);
  const after = intlOffset(cache, start + BUCKET_MS - 1);
  if (before === after) {
    cache.offsets.set(bucket, before);
    return before;
  }
  // First whole second in the bucket with the new offset.
  let lo = start / 1000;
  let hi = Math.floor((start + BUCKET_MS - 1) / 1000);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (intlOffset(cache, mid * 1000) === before) lo = mid + 1;
    else hi = mid;
  }
  const at = lo * 1000;
  cache.transitions.set(bucket, { before, after, at });
  return ms < at ? before : after;
}

/** Local calendar fields as numbers; `epochDay` counts local days from 1970-01-01 (negative before). */
export interface LocalFields {
  epochDay: number;
  secondOfDay: number;
  /** 0 = Monday … 6 = Sunday, the index into DAYS_OF_WEEK. */
  dayIndex: number;
}

/** The allocation-free core of localParts, for the rating loop. */
export function localFields(tz: string, ms: number): LocalFields {
  const local = ms + offsetIn(zone(tz), ms);
  const epochDay = Math.floor(local / DAY_MS);
  const secondOfDay = Math.floor((local - epochDay * DAY_MS) / 1000);
  // 1970-01-01 was a Thursday (index 3).
  const dayIndex = (((epochDay + 3) % 7) + 7) % 7;
  return { epochDay, secondOfDay, dayIndex };
}

export interface LocalParts {
  date: string;
  minuteOfDay: number;
  secondOfDay: number;
  dayOfWeek: DayOfWeek;
}

export function localParts(tz: string, ms: number): LocalParts {
  const f = localFields(tz, ms);
  return {
    date: dateFromEpochDay(f.epochDay),
    minuteOfDay: Math.floor(f.secondOfDay / 60),
    secondOfDay: f.secondOfDay,
    dayOfWeek: DAYS_OF_WEEK[f.dayIndex],
  };
}

/** Days since 1970-01-01 of a YYYY-MM-DD date (proleptic Gregorian, no time zone involved). */
export function epochDayOf(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS);
}

export function dateFromEpochDay(epochDay: number): string {
  const d = new Date(epochDay * DAY_MS);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  return `${String(y).padStart(4, '0')}-${mo < 10 ? '0' : ''}${mo}-${day < 10 ? '0' : ''}${day}`;
}

/**
 * The instant at which the wall clock of `tz` reads `date` + `minuteOfDay` (0..1440; 1440 is the next
 * day's midnight, so "end of day" needs no date arithmetic by the caller).
 *
 * - DST gap (the wall-clock time does not exist, e.g. 02:30 on a spring-forward night): the instant the
 *   clock jumps, i.e. the first instant whose local time is at or after the requested time. A tariff that
 *   starts at 02:30 starts when the clock jumps over 02:30.
 * - DST overlap (the time occurs twice, e.g. 02:30 on a fall-back night): the first occurrence, so a
 *   window that starts then starts as early as its wall-clock start allows.
 */
export function localToInstant(tz: string, date: string, minuteOfDay: number): number {
  if (!Number.isInteger(minuteOfDay) || minuteOfDay < 0 || minuteOfDay > 1440) {
    throw new RangeError(`minuteOfDay must be an integer 0..1440, got ${minuteOfDay}`);
  }
  return wallToInstant(tz, epochDayOf(date) * DAY_MS + minuteOfDay * 60_000);
}

/** `wall` is the local wall-clock time written as if it were UTC milliseconds. */
export function wallToInstant(tz: string, wall: number): number {
  const cache = zone(tz);
  // Offsets in use lie between -12 h and +14 h, so every candidate instant is within this window; the
  // offsets at its ends and in the middle are every offset that can apply unless a zone changes twice
  // within a day, which none does.
  const candidates = new Set<number>([
    offsetIn(cache, wall - 14 * 3_600_000),
    offsetIn(cache, wall),
    offsetIn(cache, wall + 12 * 3_600_000),
  ]);
  for (const o of [...candidates]) candidates.add(offsetIn(cache, wall - o));
  let best: number | undefined;
  for (const o of candidates) {
    const t = wall - o;
    if (offsetIn(cache, t) === o && (best === undefined || t < best)) best = t;
  }
  if (best !== undefined) return best;
  // In a gap: the clock jumps from some offset `lo` to a larger one. Between wall - max and wall - min
  // lies the transition; the first instant there whose local time is >= wall is the answer.
  const offsets = [...candidates];
  let lo = wall - Math.max(...offsets);
  let hi = wall - Math.min(...offsets);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid + offsetIn(cache, mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}
