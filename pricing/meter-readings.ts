import {
  describeDecimalProblem,
  formatWh,
  parseDecimal,
  parseMilli,
  parseRfc3339,
  text,
} from './reading-parsers';

/*
 * Which meter values a session is priced with. Samples arrive sparse, irregular, repeated and out of order
 * (chargers buffer MeterValues while offline and replay them), so they are sorted by instant; identical
 * duplicates collapse. Every bad value is rejected with a reason an operator can read, and the rest of the
 * session is still priced: a value that is not a plain non-negative decimal, a timestamp that is not RFC 3339
 * or lies outside [startedAt, stoppedAt], a state of charge above 100 %, and an energy register that does
 * not fit the accepted series. The series starts at meterStartWh at startedAt and ends at meterStopWh at
 * stoppedAt; walking it in time order, a register value below the last accepted one, above the stop value,
 * or different from a value already accepted at the same instant is rejected. Samples at one instant are
 * ordered by their values, so the outcome does not depend on the order they were received in. A stop value
 * below the start value is rejected and the session's energy is 0. Energy strings become integer milli-Wh
 * exactly; a value with more than 3 decimals is rounded half-up to the milli-Wh (registers do not resolve
 * finer).
 */

export interface RawSample {
  timestamp: string;
  energyWh?: string;
  powerW?: string;
  currentA?: string;
  soc?: string;
}

export interface RejectedReading {
  timestamp: string;
  field: 'timestamp' | 'energyWh' | 'powerW' | 'currentA' | 'soc';
  value: string;
  /** Readable by an operator, with the figures that made the value unusable. */
  reason: string;
}

export interface MeterInput {
  startedAt: string;
  stoppedAt: string;
  meterStartWh: string;
  meterStopWh: string;
  samples: RawSample[];
}

/** The accepted values of a session, each series in time order. */
export interface MeterReadings {
  /** Register series (instant, mWh), strictly increasing in time, from the session start to its end. */
  ptMs: number[];
  ptE: number[];
  /** Register value at the start and at the end of the session; the session's energy is stopE - e0. */
  e0: number;
  stopE: number;
  powerMs: number[];
  powerKw: number[];
  currentMs: number[];
  currentA: number[];
  /** Instants strictly inside the session with at least one accepted value. */
  sampleCuts: number[];
  rejected: RejectedReading[];
}

interface SampleRecord {
  ms: number;
  sample: RawSample;
  /** Energy register in mWh, a parseMilli code, or NaN when the sample has none. */
  energy: number;
}

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

/** startMs and stopMs are the session's bounds, already read; stopMs may lie before startMs. */
export function readMeter(input: MeterInput, startMs: number, stopMs: number): MeterReadings {
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
  return { ptMs, ptE, e0, stopE, powerMs, powerKw, currentMs, currentA, sampleCuts, rejected };
}
