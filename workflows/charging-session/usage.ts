import { Dec } from '../../pricing/money';
import type { SessionUsage } from '../../pricing/rate';
import type { MeterReading } from './messages';

/** The compact state a session keeps of its readings: pricing needs only the latest register value and time. */
export interface MeterState {
  lastEnergyWh: string;
  lastTimestamp: string;
}

/**
 * Folds readings into the state. A register that goes backwards or a reading older than the latest one
 * (out of order, late resend) is ignored, so the running cost never decreases.
 */
export function applyReadings(state: MeterState, readings: MeterReading[]): MeterState {
  let next = state;
  for (const r of readings) {
    if (r.energyWh === undefined) continue;
    if (Date.parse(r.timestamp) < Date.parse(next.lastTimestamp)) continue;
    if (new Dec(r.energyWh).lt(next.lastEnergyWh)) continue;
    next = { lastEnergyWh: r.energyWh, lastTimestamp: r.timestamp };
  }
  return next;
}

export function usageBetween(
  startWh: string,
  startedAt: string,
  endWh: string,
  endedAt: string,
): SessionUsage {
  const energy = new Dec(endWh).sub(startWh);
  const seconds = Math.floor((Date.parse(endedAt) - Date.parse(startedAt)) / 1000);
  return { energyWh: Dec.max(energy, 0).toFixed(), durationSeconds: Math.max(seconds, 0) };
}
