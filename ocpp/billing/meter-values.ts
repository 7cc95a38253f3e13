import { Dec } from '../../pricing/money';
import type { MeterReading } from '../../workflows/charging-session/messages';

interface SampledValue {
  value: string;
  context?: string;
  format?: string;
  measurand?: string;
  phase?: string;
  unit?: string;
}

export interface MeterValue {
  timestamp: string;
  sampledValue: SampledValue[];
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
type BaseUnit = 'Wh' | 'W' | 'A' | 'Percent';
const SCALES: Record<BaseUnit, Record<string, number>> = {
  Wh: { Wh: 1, kWh: 1000 },
  W: { W: 1, kW: 1000 },
  A: { A: 1 },
  Percent: { Percent: 1 },
};

/**
 * Converts a sampled value to Wh, W, A or percent. A value that is not a plain number, or is signed data, is
 * passed on as written so pricing rejects it with a reason the operator can read instead of it vanishing.
 * undefined only for a unit that is not this measurand's.
 */
function toBaseUnit(sample: SampledValue, base: BaseUnit): string | undefined {
  const text = sample.value.trim();
  if (sample.format === 'SignedData' || !DECIMAL.test(text)) return text;
  const scale = SCALES[base][sample.unit ?? base];
  return scale === undefined ? undefined : new Dec(text).mul(scale).toFixed();
}

/**
 * Picks what pricing needs from MeterValues: the total import energy register and power, the current
 * summed over phases (OCPI restrictions compare the sum of all phases), and the state of charge. OCPP 1.6
 * defaults an absent measurand to Energy.Active.Import.Register and an absent unit to Wh.
 */
export function extractReadings(meterValues: MeterValue[]): MeterReading[] {
  return meterValues.map((mv) => {
    const reading: MeterReading = { timestamp: new Date(mv.timestamp).toISOString() };
    let phaseCurrent: Dec | null = null;
    for (const sample of mv.sampledValue) {
      const measurand = sample.measurand ?? 'Energy.Active.Import.Register';
      if (measurand === 'Current.Import') {
        const value = toBaseUnit(sample, 'A');
        if (value === undefined) continue;
        if (sample.phase === undefined) reading.currentA = value;
        else if (/^L[123](-N)?$/.test(sample.phase) && DECIMAL.test(value)) {
          phaseCurrent = (phaseCurrent ?? new Dec(0)).add(value);
        }
        continue;
      }
      if (sample.phase !== undefined) continue;
      if (measurand === 'Energy.Active.Import.Register') reading.energyWh = toBaseUnit(sample, 'Wh');
      if (measurand === 'Power.Active.Import') reading.powerW = toBaseUnit(sample, 'W');
      if (measurand === 'SoC') reading.soc = toBaseUnit(sample, 'Percent');
    }
    if (reading.currentA === undefined && phaseCurrent !== null) reading.currentA = phaseCurrent.toFixed();
    return reading;
  });
}

const FUTURE_TOLERANCE_MS = 10 * 60_000;
const BILLED: Record<string, { min: number; max?: number }> = {
  'Energy.Active.Import.Register': { min: 0 },
  'Power.Active.Import': { min: 0 },
  'Current.Import': { min: 0 },
  SoC: { min: 0, max: 100 },
};

/**
 * What makes a MeterValues message unusable for billing, as the CALLERROR description, or null. Only the
 * measurands billing reads are checked: a number, in range, not from the future (a charge point's clock may
 * run a few minutes fast), and an energy register that does not go backwards within the message. The charge
 * point keeps a refused message and may resend it; nothing of it reaches the session.
 */
export function meterValuesProblem(meterValues: MeterValue[], now: Date): string | null {
  let lastEnergy: { at: number; wh: number } | undefined;
  const ordered = meterValues
    .map((mv, i) => ({ mv, i, at: Date.parse(mv.timestamp) }))
    .sort((a, b) => a.at - b.at);
  for (const { mv, i, at } of ordered) {
    if (at > now.getTime() + FUTURE_TOLERANCE_MS) {
      return `meterValue[${i}].timestamp ${mv.timestamp} is in the future`;
    }
    for (const [j, sample] of mv.sampledValue.entries()) {
      const measurand = sample.measurand ?? 'Energy.Active.Import.Register';
      const range = BILLED[measurand];
      if (!range || sample.format === 'SignedData') continue;
      const where = `meterValue[${i}].sampledValue[${j}].value`;
      const text = sample.value.trim();
      if (!DECIMAL.test(text))
        return `${where} ${JSON.stringify(sample.value)} is not a number (${measurand})`;
      const value = Number(text);
      if (value < range.min || (range.max !== undefined && value > range.max)) {
        const bounds = range.max === undefined ? `at least ${range.min}` : `${range.min} to ${range.max}`;
        return `${where} ${text} is out of range for ${measurand} (${bounds})`;
      }
      if (measurand === 'Energy.Active.Import.Register' && sample.phase === undefined) {
        const wh = Number(toBaseUnit(sample, 'Wh') ?? NaN);
        if (lastEnergy && at > lastEnergy.at && wh < lastEnergy.wh) {
          return `${where} ${text}: the energy register goes backwards within the message`;
        }
        if (!Number.isNaN(wh)) lastEnergy = { at, wh };
      }
    }
  }
  return null;
}
