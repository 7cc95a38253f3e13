import type { RatingPeriod } from './model';

/*
 * From OCPP meter readings and connector statuses to the periods the rating engine prices.
 * (docs/meter-timeline.md says the same with examples.)
 *
 * Readings. Samples arrive sparse, irregular, repeated and out of order (chargers buffer MeterValues while
 * offline and replay them), so they are sorted by instant; identical duplicates collapse. Every bad value is
 * rejected with a reason an operator can read, and the rest of the session is still priced: a value that is
 * not a plain non-negative decimal, a timestamp that is not RFC 3339 or lies outside [startedAt, stoppedAt],
 * a state of charge above 100 %, and an energy register that does not fit the accepted series. The series
 * starts at meterStartWh at startedAt and ends at meterStopWh at stoppedAt; walking it in time order, a
 * register value below the last accepted one, above the stop value, or different from a value already
 * accepted at the same instant is rejected. Samples at one instant are ordered by their values, so the
 * outcome does not depend on the order they were received in. A stop value below the start value is
 * rejected and the session's energy is 0. Energy strings become integer milli-Wh exactly; a value with more
 * than 3 decimals is rounded half-up to the milli-Wh (registers do not resolve finer).
 *
 * Energy. Between two accepted register values the energy is taken to grow linearly: it is the only reading
 * that needs no model of the vehicle, and it splits an interval across a cut in proportion to time. E(t) is
 * computed exactly in integers (BigInt when a product could leave the safe range) and rounded half-up to
 * the milli-Wh once per cut instant; a period's energy is E(end) - E(start), so the periods always sum to
 * stop - start exactly. At an energy-threshold cut E is the threshold itself: the instant is where the
 * session reaches the threshold, rounded to the ms, and moving the energy too by up to half a ms of flow
 * would let a period that starts "at 20 kWh" read 19.99996 kWh and miss a min_kwh restriction.
 *
 * Cuts. A period starts at the session start, every instant with an accepted sample, every status change,
 * every given instant inside the session, every instant the session energy reaches a given threshold
 * (inverse interpolation, rounded half-up to the ms, never before the ms after the last reading below it),
 * startedAt + every given duration, and the end of charging. Zero-length periods are not emitted; a session
 * that itself lasts 0 ms gets one zero-length period so its energy is still billed.
 *
 * Charging or parking. The platform bills idle time as the time a vehicle stays plugged in after charging
 * ended, so everything before chargingEndMs is charging time (timeMs), even a mid-session pause, and
 * everything after is parking (parkingMs). Pauses are not charged as idle because most are the charger's
 * doing (load management, SuspendedEVSE) or the vehicle's own (SuspendedEV while balancing), not a driver
 * blocking the bay. chargingEndMs is, from statuses, the last change from Charging to any other status
 * with no Charging after it (stoppedAt when the last status is Charging). Only statuses inside the session
 * count, plus the last one before it, which gives the state at the start; statuses after the stop (Finishing,
 * Available) say nothing about the session. Without any Charging status, chargingEndMs is the first
 * accepted instant at which the register shows its final value (stoppedAt when it still rose in the last
 * interval). With no Charging status and no energy delivered there is no evidence of when charging ended,
 * and the whole session counts as charging rather than billing idle time nobody can justify.
 *
 * Power and current. A period's min/max are those of the accepted samples inside it ([start, end), the
 * last period also takes a sample at stoppedAt); without power samples both are the average power
 * energy/duration. Current has no such fallback (it would need the voltage).
 *
 * Cost: O((n + c) log(n + c)) for n readings and c cuts with plain numbers; decimal strings and timestamps
 * are parsed by hand once each, since this runs in every session workflow on every pricing.
 */

export interface RawSample {
  timestamp: string;
  energyWh?: string;
  powerW?: string;
  currentA?: string;
  soc?: string;
}

/** OCPP 1.6 ChargePointStatus: Charging, SuspendedEV, SuspendedEVSE, Finishing, Available, Preparing, ... */
export interface StatusChange {
  timestamp: string;
  status: string;
}

export interface RejectedReading {
  timestamp: string;
  field: 'timestamp' | 'energyWh' | 'powerW' | 'currentA' | 'soc';
  value: string;
  /** Readable by an operator, with the figures that made the value unusable. */
  reason: string;
}

export interface TimelineCuts {
  /** Absolute instants (ms since the epoch); those not strictly inside the session are ignored. */
  instantsMs: number[];
  /** Session energy (mWh since the start of the session) at which a new period starts. */
  energyThresholdsMWh: number[];
  /** Time since startedAt (ms) at which a new period starts. */
  durationThresholdsMs: number[];
}

export interface TimelineInput {
  startedAt: string;
  stoppedAt: string;
  meterStartWh: string;
  meterStopWh: string;
  samples: RawSample[];
  statuses: StatusChange[];
  cuts: TimelineCuts;
}

export interface Timeline {
  periods: RatingPeriod[];
  rejected: RejectedReading[];
  chargingEndMs: number;
  /** Session energy in mWh: meter stop - meter start, exactly the sum of the periods' energy. */
  energyMWh: number;
  sessionStartMs: number;
  sessionEndMs: number;
}

const CHARGING = 'Charging';

// Codes the parsers return instead of a value (values are never negative).
const NOT_A_NUMBER = -1;
const NEGATIVE = -2;
const TOO_LARGE = -3;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). Plain arithmetic costs a
 * fraction of Date.UTC, which showed up in profiles of long sessions, and reads years 0-99 as written.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The two digits at s[at], or -1. Callers check the length first: past the end, NaN >>> 0 would pass. */
function twoDigits(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48;
  const b = s.charCodeAt(at + 1) - 48;
  return a >>> 0 > 9 || b >>> 0 > 9 ? -1 : a * 10 + b;
}

/**
 * RFC 3339 date-time to ms since the epoch, NaN when the text is not one. Date.parse accepts other forms
 * and impossible dates (February 30th becomes March 1st), and a reading with a wrong date must be rejected,
 * not moved. Fractions below the ms are truncated, as Date does; a leap second reads as the next second.
 */
function parseRfc3339(s: string): number {
  if (typeof s !== 'string' || s.length < 20) return NaN;
  const century = twoDigits(s, 0);
  const year = century * 100 + twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  const t = s.charCodeAt(10);
  if (
    century < 0 ||
    year < century * 100 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > DAYS_IN_MONTH[month - 1] ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    (t !== 84 && t !== 116) ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  ) {
    return NaN;
  }
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return NaN;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    i++;
    const from = i;
    while (i < s.length) {
      const d = s.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) break;
      if (i - from < 3) ms += d * (i - from === 0 ? 100 : i - from === 1 ? 10 : 1);
      i++;
    }
    if (i === from) return NaN;
  }
  let offsetMs = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== s.length) return NaN;
  } else if (z === 43 || z === 45) {
    if (i + 6 !== s.length || s.charCodeAt(i + 3) !== 58) return NaN;
    const oh = twoDigits(s, i + 1);
    const om = twoDigits(s, i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMs = (oh * 60 + om) * 60_000 * (z === 43 ? 1 : -1);
  } else {
    return NaN;
  }
  const days = daysFromCivil(year, month, day);
  return days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms - offsetMs;
}

// One pass per value, by hand: a validation pass followed by Number() showed up in profiles of long sessions.
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/**
 * A plain decimal ("7400", "7.25", "-3") divided by 10^shift, or NOT_A_NUMBER / NEGATIVE. Exponents, "+",
 * blanks and bare points are refused: a meter value that is not written plainly is not trusted to be read
 * right. A negative zero is zero. Up to 15 digits the result is the double nearest the exact value.
 */
function parseDecimal(s: string, shift: number): number {
  const n = s.length;
  const negative = s.charCodeAt(0) === 45;
  let i = negative ? 1 : 0;
  const from = i;
  let digits = 0;
  let decimals = 0;
  while (i < n) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    digits = digits * 10 + d;
    i++;
  }
  if (i === from) return NOT_A_NUMBER;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return NOT_A_NUMBER;
    const fracFrom = ++i;
    while (i < n) {
      const d = s.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) return NOT_A_NUMBER;
      digits = digits * 10 + d;
      i++;
    }
    decimals = i - fracFrom;
    if (decimals === 0) return NOT_A_NUMBER;
  }
  if (negative && digits !== 0) return NEGATIVE;
  if (digits > Number.MAX_SAFE_INTEGER || decimals + shift >= POW10.length) {
    return Number(negative ? s.slice(1) : s) / POW10[shift];
  }
  return digits / POW10[decimals + shift];
}

// Largest whole Wh whose milli-Wh, plus a rounded-up fraction, is still an exact integer.
const MAX_WHOLE_WH = Math.floor(Number.MAX_SAFE_INTEGER / 1000) - 1;

/** A Wh decimal as integer milli-Wh, rounded half-up past the third decimal; or a negative code. */
function parseMilli(s: string): number {
  const n = s.length;
  const negative = s.charCodeAt(0) === 45;
  let i = negative ? 1 : 0;
  const from = i;
  let whole = 0;
  while (i < n) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    whole = whole * 10 + d;
    i++;
  }
  if (i === from) return NOT_A_NUMBER;
  let milli = 0;
  let fraction = false;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return NOT_A_NUMBER;
    const fracFrom = ++i;
    while (i < n) {
      const d = s.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) return NOT_A_NUMBER;
      const place = i - fracFrom;
      if (place < 3) milli += d * (place === 0 ? 100 : place === 1 ? 10 : 1);
      // Half-up: the fourth decimal alone decides, whatever follows it.
      else if (place === 3 && d >= 5) milli++;
      if (d !== 0) fraction = true;
      i++;
    }
    if (i === fracFrom) return NOT_A_NUMBER;
  }
  if (negative && (whole !== 0 || fraction)) return NEGATIVE;
  return whole > MAX_WHOLE_WH ? TOO_LARGE : whole * 1000 + milli;
}

const TWO_POW_52 = 2 ** 52;

/** a * b / c rounded half-up, for non-negative integers and c > 0, exact whatever the size of a * b. */
function mulDivRound(a: number, b: number, c: number): number {
  const n = a * b;
  if (n < TWO_POW_52 && c < TWO_POW_52) {
    // Exact: a rounded n / c can only reach the next integer when n + c is above 2^53.
    const q = Math.floor(n / c);
    return 2 * (n - q * c) >= c ? q + 1 : q;
  }
  const big = BigInt(a) * BigInt(b);
  const div = BigInt(c);
  const q = big / div;
  return Number(2n * (big - q * div) >= div ? q + 1n : q);
}

/** Milli-Wh as Wh with at least one decimal: 1520000 -> "1520.0", 1520125 -> "1520.125". */
function formatWh(mwh: number): string {
  const frac = String(mwh % 1000)
    .padStart(3, '0')
    .replace(/0{1,2}$/, '');
  return `${Math.floor(mwh / 1000)}.${frac}`;
}

function describeDecimalProblem(code: number): string {
  if (code === NEGATIVE) return 'is negative';
  if (code === TOO_LARGE) return 'is too large to be a meter reading';
  return 'is not a plain decimal number';
}

interface SampleRecord {
  ms: number;
  sample: RawSample;
  /** Energy register in mWh, a parseMilli code, or NaN when the sample has none. */
  energy: number;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : String(v));

function compareText(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return a < b ? -1 : 1;
}

const energyRank = (e: number): number => (Number.isNaN(e) ? 0 : e < 0 ? 1 : 2);

/**
 * Total order on samples: by instant, then by register value, then by text, so a register conflict at one
 * instant rejects the same sample whatever the arrival order, and identical samples end up side by side.
 */
function compareSamples(a: SampleRecord, b: SampleRecord): number {
  if (a.ms !== b.ms) return a.ms - b.ms;
  const rank = energyRank(a.energy) - energyRank(b.energy);
  if (rank !== 0) return rank;
  if (a.energy >= 0 && a.energy !== b.energy) return a.energy - b.energy;
  return (
    compareText(a.sample.energyWh, b.sample.energyWh) ||
    compareText(a.sample.powerW, b.sample.powerW) ||
    compareText(a.sample.currentA, b.sample.currentA) ||
    compareText(a.sample.soc, b.sample.soc) ||
    compareText(a.sample.timestamp, b.sample.timestamp)
  );
}

function sameValues(a: RawSample, b: RawSample): boolean {
  return a.energyWh === b.energyWh && a.powerW === b.powerW && a.currentA === b.currentA && a.soc === b.soc;
}

function checkCutValues(name: string, values: number[]): void {
  for (const v of values) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`cuts.${name} must hold integers, got ${v}`);
  }
}

export function buildTimeline(input: TimelineInput): Timeline {
  const startMs = parseRfc3339(input.startedAt);
  const stopMs = parseRfc3339(input.stoppedAt);
  // The session's own bounds come from the platform, not the charger: without them nothing can be priced.
  if (Number.isNaN(startMs))
    throw new RangeError(`startedAt ${JSON.stringify(input.startedAt)} is not RFC 3339`);
  if (Number.isNaN(stopMs))
    throw new RangeError(`stoppedAt ${JSON.stringify(input.stoppedAt)} is not RFC 3339`);
  const { cuts } = input;
  checkCutValues('instantsMs', cuts.instantsMs);
  checkCutValues('energyThresholdsMWh', cuts.energyThresholdsMWh);
  checkCutValues('durationThresholdsMs', cuts.durationThresholdsMs);

  const endMs = Math.max(startMs, stopMs);
  const dayStart = startMs - (((startMs % 86_400_000) + 86_400_000) % 86_400_000);
  // Clock time alone reads best and is unambiguous within the session's first UTC day.
  const at = (ms: number): string => {
    const iso = new Date(ms).toISOString().replace('.000Z', 'Z');
    return ms >= dayStart && ms < dayStart + 86_400_000 ? iso.slice(11) : iso;
  };

  const rejected: RejectedReading[] = [];
  const reject = (sample: RawSample, field: RejectedReading['field'], value: string, reason: string) =>
    rejected.push({ timestamp: sample.timestamp, field, value, reason });
  if (stopMs < startMs) {
    rejected.push({
      timestamp: input.stoppedAt,
      field: 'timestamp',
      value: input.stoppedAt,
      reason: `the session stop ${at(stopMs)} is before its start ${at(startMs)}; the session is taken to last 0 s`,
    });
  }

  const meterStart = parseMilli(text(input.meterStartWh));
  const meterStop = parseMilli(text(input.meterStopWh));
  const startKnown = meterStart >= 0;
  const stopKnown = meterStop >= 0;
  if (!startKnown) {
    rejected.push({
      timestamp: input.startedAt,
      field: 'energyWh',
      value: text(input.meterStartWh),
      reason: `the meter start value ${describeDecimalProblem(meterStart)}; the session's first energy reading is used instead`,
    });
  }
  let stopBelowStart = false;
  if (!stopKnown) {
    rejected.push({
      timestamp: input.stoppedAt,
      field: 'energyWh',
      value: text(input.meterStopWh),
      reason: `the meter stop value ${describeDecimalProblem(meterStop)}; the session's last energy reading is used instead`,
    });
  } else if (startKnown && meterStop < meterStart) {
    stopBelowStart = true;
    rejected.push({
      timestamp: input.stoppedAt,
      field: 'energyWh',
      value: text(input.meterStopWh),
      reason: `the meter stop value ${formatWh(meterStop)} Wh is below the meter start value ${formatWh(meterStart)} Wh; the session's energy is taken as 0`,
    });
  }
  const upper = !stopKnown ? Infinity : stopBelowStart ? meterStart : meterStop;
  const upperLabel = stopBelowStart
    ? `the session's final value ${formatWh(upper)} Wh (the meter stop value was rejected)`
    : `the meter stop value ${formatWh(upper)} Wh`;

  // Samples: timestamps first, since a reading at an unknown or foreign instant cannot be placed at all.
  const records: SampleRecord[] = [];
  const badTimestamps: RejectedReading[] = [];
  for (const sample of input.samples) {
    const ms = parseRfc3339(sample.timestamp);
    if (Number.isNaN(ms)) {
      badTimestamps.push({
        timestamp: text(sample.timestamp),
        field: 'timestamp',
        value: text(sample.timestamp),
        reason: `the reading's timestamp ${JSON.stringify(sample.timestamp)} is not an RFC 3339 date-time; the reading is ignored`,
      });
    } else if (ms < startMs || ms > endMs) {
      badTimestamps.push({
        timestamp: sample.timestamp,
        field: 'timestamp',
        value: sample.timestamp,
        reason: `the reading at ${at(ms)} is outside the session (${at(startMs)} to ${at(endMs)}); it is ignored`,
      });
    } else {
      const energy = sample.energyWh === undefined ? NaN : parseMilli(text(sample.energyWh));
      records.push({ ms, sample, energy });
    }
  }
  if (badTimestamps.length > 1) {
    // Identical bad readings are reported once, in an order that does not depend on arrival.
    badTimestamps.sort((a, b) => compareText(a.value, b.value) || compareText(a.reason, b.reason));
    for (let i = badTimestamps.length - 1; i > 0; i--) {
      const a = badTimestamps[i];
      const b = badTimestamps[i - 1];
      if (a.value === b.value && a.reason === b.reason) badTimestamps.splice(i, 1);
    }
  }
  rejected.push(...badTimestamps);
  // Readings mostly arrive in order; checking is far cheaper than sorting with a comparator.
  for (let i = 1; i < records.length; i++) {
    if (compareSamples(records[i - 1], records[i]) > 0) {
      records.sort(compareSamples);
      break;
    }
  }

  // Accepted register series, strictly increasing in time, anchors included.
  const ptMs: number[] = [];
  const ptE: number[] = [];
  if (startKnown) {
    ptMs.push(startMs);
    ptE.push(meterStart);
  }
  const powerMs: number[] = [];
  const powerKw: number[] = [];
  const currentMs: number[] = [];
  const currentA: number[] = [];
  const sampleCuts: number[] = [];
  let previous: RawSample | undefined;
  let previousMs = NaN;
  for (const { ms, sample, energy } of records) {
    if (ms === previousMs && previous !== undefined && sameValues(previous, sample)) continue;
    previous = sample;
    previousMs = ms;
    let accepted = false;

    if (sample.energyWh !== undefined) {
      const raw = text(sample.energyWh);
      const last = ptE.length - 1;
      // Built only for a rejection: formatting every accepted reading cost more than the rest of the build.
      const register = () =>
        `energy register ${energy >= 0 ? `${formatWh(energy)} Wh` : JSON.stringify(raw)} at ${at(ms)}`;
      if (energy < 0) {
        reject(sample, 'energyWh', raw, `${register()} ${describeDecimalProblem(energy)}`);
      } else if (energy > upper) {
        reject(sample, 'energyWh', raw, `${register()} is above ${upperLabel}`);
      } else if (last < 0) {
        // The meter start value was unusable: the first register reading stands in for it.
        ptMs.push(startMs);
        ptE.push(energy);
        if (ms > startMs) {
          ptMs.push(ms);
          ptE.push(energy);
        }
        accepted = true;
      } else if (energy < ptE[last]) {
        const previousRead =
          last === 0 && startKnown
            ? `the meter start value ${formatWh(ptE[0])} Wh`
            : `${formatWh(ptE[last])} Wh read at ${at(ptMs[last])}`;
        reject(sample, 'energyWh', raw, `${register()} is below ${previousRead}`);
      } else if (ms === ptMs[last]) {
        if (energy === ptE[last]) accepted = true;
        else {
          const other =
            last === 0 && startKnown
              ? `the meter start value ${formatWh(ptE[0])} Wh`
              : `${formatWh(ptE[last])} Wh read at the same instant`;
          reject(sample, 'energyWh', raw, `${register()} conflicts with ${other}`);
        }
      } else if (ms === endMs && stopKnown && energy !== upper) {
        reject(sample, 'energyWh', raw, `${register()} conflicts with ${upperLabel} at the session stop`);
      } else {
        ptMs.push(ms);
        ptE.push(energy);
        accepted = true;
      }
    }
    if (sample.powerW !== undefined) {
      const raw = text(sample.powerW);
      const kw = parseDecimal(raw, 3);
      if (kw < 0)
        reject(
          sample,
          'powerW',
          raw,
          `power ${JSON.stringify(raw)} W at ${at(ms)} ${describeDecimalProblem(kw)}`,
        );
      else {
        powerMs.push(ms);
        powerKw.push(kw);
        accepted = true;
      }
    }
    if (sample.currentA !== undefined) {
      const raw = text(sample.currentA);
      const amps = parseDecimal(raw, 0);
      if (amps < 0)
        reject(
          sample,
          'currentA',
          raw,
          `current ${JSON.stringify(raw)} A at ${at(ms)} ${describeDecimalProblem(amps)}`,
        );
      else {
        currentMs.push(ms);
        currentA.push(amps);
        accepted = true;
      }
    }
    if (sample.soc !== undefined) {
      const raw = text(sample.soc);
      const soc = parseDecimal(raw, 0);
      if (soc < 0)
        reject(
          sample,
          'soc',
          raw,
          `state of charge ${JSON.stringify(raw)} % at ${at(ms)} ${describeDecimalProblem(soc)}`,
        );
      else if (soc > 100) reject(sample, 'soc', raw, `state of charge ${raw} % at ${at(ms)} is above 100 %`);
      else accepted = true;
    }
    if (accepted && ms > startMs && ms < endMs) sampleCuts.push(ms);
  }

  if (ptMs.length === 0) {
    ptMs.push(startMs);
    ptE.push(stopKnown ? meterStop : 0);
  }
  const e0 = ptE[0];
  const stopE = stopKnown && !stopBelowStart ? meterStop : ptE[ptE.length - 1];
  if (ptMs[ptMs.length - 1] < endMs) {
    ptMs.push(endMs);
    ptE.push(stopE);
  }
  const energyMWh = stopE - e0;

  const statuses = sessionStatuses(input.statuses, startMs, endMs, rejected);
  const chargingEndMs = chargingEnd(statuses, endMs, ptMs, ptE, stopE);
  if (endMs === startMs) {
    return {
      periods: [{ startMs, energyMWh, timeMs: 0, parkingMs: 0 }],
      rejected,
      chargingEndMs,
      energyMWh,
      sessionStartMs: startMs,
      sessionEndMs: endMs,
    };
  }

  const statusCuts: number[] = [];
  for (let i = 0; i < statuses.length; i++) {
    const { ms, status } = statuses[i];
    if (ms > startMs && ms < endMs && (i === 0 || statuses[i - 1].status !== status)) statusCuts.push(ms);
  }
  // Sample instants are already in order; the few other cuts are sorted apart and merged in.
  const other: number[] = [startMs, endMs, chargingEndMs, ...statusCuts];
  for (const t of cuts.instantsMs) if (t > startMs && t < endMs) other.push(t);
  for (const d of cuts.durationThresholdsMs) if (d > 0 && startMs + d < endMs) other.push(startMs + d);

  // Energy thresholds: the instant the session reaches T is found on the segment where it crosses T.
  // Threshold cuts whose energy is the threshold itself, in time order (few: one per tariff restriction).
  const pinMs: number[] = [];
  const pinE: number[] = [];
  for (const threshold of cuts.energyThresholdsMWh) {
    if (threshold <= 0 || threshold > energyMWh) continue;
    const target = e0 + threshold;
    let lo = 1;
    let hi = ptE.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ptE[mid] >= target) hi = mid;
      else lo = mid + 1;
    }
    const a = lo - 1;
    const t = Math.max(
      ptMs[a] + mulDivRound(target - ptE[a], ptMs[lo] - ptMs[a], ptE[lo] - ptE[a]),
      ptMs[a] + 1,
    );
    if (t === ptMs[lo]) {
      // A reading at that instant already says what the register was; it is at or past the threshold.
      if (t < endMs) other.push(t);
      continue;
    }
    other.push(t);
    let slot = pinMs.length;
    while (slot > 0 && pinMs[slot - 1] > t) slot--;
    if (slot > 0 && pinMs[slot - 1] === t) pinE[slot - 1] = Math.max(pinE[slot - 1], target);
    else {
      pinMs.splice(slot, 0, t);
      pinE.splice(slot, 0, target);
    }
  }

  other.sort((x, y) => x - y);
  const instants: number[] = [];
  for (let i = 0, j = 0; i < sampleCuts.length || j < other.length;) {
    const t =
      j >= other.length || (i < sampleCuts.length && sampleCuts[i] < other[j]) ? sampleCuts[i++] : other[j++];
    if (instants.length === 0 || t !== instants[instants.length - 1]) instants.push(t);
  }

  // E at every instant, walking the register series alongside.
  const energyAt: number[] = new Array<number>(instants.length);
  let seg = 0;
  let pin = 0;
  for (let k = 0; k < instants.length; k++) {
    const t = instants[k];
    while (seg < ptMs.length - 1 && ptMs[seg + 1] <= t) seg++;
    if (pin < pinMs.length && pinMs[pin] === t) energyAt[k] = pinE[pin++];
    else if (ptMs[seg] === t || seg === ptMs.length - 1) energyAt[k] = ptE[seg];
    else {
      energyAt[k] = ptE[seg] + mulDivRound(ptE[seg + 1] - ptE[seg], t - ptMs[seg], ptMs[seg + 1] - ptMs[seg]);
    }
  }

  const periods: RatingPeriod[] = new Array<RatingPeriod>(instants.length - 1);
  let p = 0;
  let c = 0;
  const last = instants.length - 2;
  for (let k = 0; k <= last; k++) {
    const from = instants[k];
    const to = instants[k + 1];
    // Half-open periods, except that the last one also holds a reading taken at the stop itself.
    const limit = k === last ? to + 1 : to;
    const length = to - from;
    const energy = energyAt[k + 1] - energyAt[k];
    const charging = to <= chargingEndMs;
    const period: RatingPeriod = {
      startMs: from,
      energyMWh: energy,
      timeMs: charging ? length : 0,
      parkingMs: charging ? 0 : length,
    };
    if (p < powerMs.length && powerMs[p] < limit) {
      let min = powerKw[p];
      let max = min;
      for (p++; p < powerMs.length && powerMs[p] < limit; p++) {
        if (powerKw[p] < min) min = powerKw[p];
        if (powerKw[p] > max) max = powerKw[p];
      }
      period.minPowerKw = min;
      period.maxPowerKw = max;
    } else {
      // mWh per ms is 3.6 kW; one division of exact integers gives the double nearest the true average.
      const average = (energy * 36) / (length * 10);
      period.minPowerKw = average;
      period.maxPowerKw = average;
    }
    if (c < currentMs.length && currentMs[c] < limit) {
      let min = currentA[c];
      let max = min;
      for (c++; c < currentMs.length && currentMs[c] < limit; c++) {
        if (currentA[c] < min) min = currentA[c];
        if (currentA[c] > max) max = currentA[c];
      }
      period.minCurrentA = min;
      period.maxCurrentA = max;
    }
    periods[k] = period;
  }

  return { periods, rejected, chargingEndMs, energyMWh, sessionStartMs: startMs, sessionEndMs: endMs };
}

interface TimedStatus {
  ms: number;
  status: string;
}

/**
 * The statuses that describe the session: the last one before it (the state at the start, placed at the
 * start) and those inside it, in time order; statuses at one instant keep the order they were received in.
 * Statuses outside the session are normal (Preparing before it, Finishing and Available after it) and are
 * not reported; an unreadable timestamp is.
 */
function sessionStatuses(
  statuses: StatusChange[],
  startMs: number,
  endMs: number,
  rejected: RejectedReading[],
): TimedStatus[] {
  const inside: TimedStatus[] = [];
  let before: TimedStatus | undefined;
  for (const s of statuses) {
    const ms = parseRfc3339(s.timestamp);
    if (Number.isNaN(ms)) {
      rejected.push({
        timestamp: text(s.timestamp),
        field: 'timestamp',
        value: text(s.timestamp),
        reason: `the status ${JSON.stringify(s.status)} has the timestamp ${JSON.stringify(s.timestamp)}, not an RFC 3339 date-time; it is ignored`,
      });
    } else if (ms < startMs) {
      if (before === undefined || ms >= before.ms) before = { ms, status: s.status };
    } else if (ms <= endMs) {
      inside.push({ ms, status: s.status });
    }
  }
  inside.sort((a, b) => a.ms - b.ms);
  if (before !== undefined) inside.unshift({ ms: startMs, status: before.status });
  return inside;
}

function chargingEnd(
  statuses: TimedStatus[],
  endMs: number,
  ptMs: number[],
  ptE: number[],
  stopE: number,
): number {
  let sawCharging = false;
  let charging = false;
  let stoppedCharging = endMs;
  for (const { ms, status } of statuses) {
    const isCharging = status === CHARGING;
    if (isCharging) sawCharging = true;
    else if (charging) stoppedCharging = ms;
    charging = isCharging;
  }
  if (sawCharging) return charging ? endMs : stoppedCharging;
  // No energy delivered is no evidence of when charging ended.
  if (ptE[0] === stopE) return endMs;
  for (let i = 1; i < ptE.length; i++) if (ptE[i] === stopE) return ptMs[i];
  return endMs;
}
