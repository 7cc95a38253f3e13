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
const SCALE: Record<string, number> = { Wh: 1, kWh: 1000, W: 1, kW: 1000 };

/** Converts a sampled value to Wh or W; undefined when it is not a plain number in a unit we know. */
function toBaseUnit(sample: SampledValue, defaultUnit: 'Wh' | 'W'): string | undefined {
  if (sample.format === 'SignedData' || !DECIMAL.test(sample.value.trim())) return undefined;
  const scale = SCALE[sample.unit ?? defaultUnit];
  if (scale === undefined) return undefined;
  const value = new Dec(sample.value.trim()).mul(scale);
  return value.isNegative() ? undefined : value.toFixed();
}

/**
 * Picks what pricing needs from MeterValues: the total (not per-phase) import energy register and power.
 * OCPP 1.6 defaults an absent measurand to Energy.Active.Import.Register and an absent unit to Wh.
 */
export function extractReadings(meterValues: MeterValue[]): MeterReading[] {
  return meterValues.map((mv) => {
    const reading: MeterReading = { timestamp: new Date(mv.timestamp).toISOString() };
    for (const sample of mv.sampledValue) {
      if (sample.phase !== undefined) continue;
      const measurand = sample.measurand ?? 'Energy.Active.Import.Register';
      if (measurand === 'Energy.Active.Import.Register') reading.energyWh = toBaseUnit(sample, 'Wh');
      if (measurand === 'Power.Active.Import') reading.powerW = toBaseUnit(sample, 'W');
    }
    return reading;
  });
}
