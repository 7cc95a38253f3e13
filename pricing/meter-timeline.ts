import { chargingEnd, sessionStatuses, statusChangeCuts, type StatusChange } from './charging-status';
import { readMeter, type MeterInput, type RejectedReading } from './meter-readings';
import type { RatingPeriod } from './model';
import { parseRfc3339 } from './reading-parsers';

export type { StatusChange } from './charging-status';
export type { RawSample, RejectedReading } from './meter-readings';

/*
 * From OCPP meter readings and connector statuses to the periods the rating engine prices.
 * (docs/meter-timeline.md says the same with examples.) Which readings count is meter-readings.ts, when
 * charging ended is charging-status.ts; this module cuts the session into periods.
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
 * Charging or parking. Everything before chargingEndMs is charging time (timeMs), everything after is
 * parking (parkingMs); since the end of charging is a cut, no period holds both.
 *
 * Power and current. A period's min/max are those of the accepted samples inside it ([start, end), the
 * last period also takes a sample at stoppedAt); without power samples both are the average power
 * energy/duration. Current has no such fallback (it would need the voltage).
 *
 * Cost: O((n + c) log(n + c)) for n readings and c cuts with plain numbers.
 */

export interface TimelineCuts {
  /** Absolute instants (ms since the epoch); those not strictly inside the session are ignored. */
  instantsMs: number[];
  /** Session energy (mWh since the start of the session) at which a new period starts. */
  energyThresholdsMWh: number[];
  /** Time since startedAt (ms) at which a new period starts. */
  durationThresholdsMs: number[];
}

export interface TimelineInput extends MeterInput {
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

  const { ptMs, ptE, e0, stopE, powerMs, powerKw, currentMs, currentA, sampleCuts, rejected } = readMeter(
    input,
    startMs,
    stopMs,
  );
  const endMs = Math.max(startMs, stopMs);
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

  const statusCuts = statusChangeCuts(statuses, startMs, endMs);
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
