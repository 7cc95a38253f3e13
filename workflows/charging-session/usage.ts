import { Dec } from '../../pricing/money';
import type { ConnectorStatusV1, MeterReading } from './messages';

/**
 * What a session keeps of its readings: the latest accepted register value and time (the anchor the running
 * cost is priced to) and the samples and connector statuses pricing splits the session with. Every sample is
 * kept, even one that looks wrong: pricing rejects it with a reason the operator can read.
 */
export interface MeterState {
  lastEnergyWh: string;
  lastTimestamp: string;
  /** Absent in state carried by sessions that started before samples were kept. */
  samples?: MeterReading[];
  statuses?: ConnectorStatusV1[];
}

const sameReading = (a: MeterReading, b: MeterReading) =>
  a.timestamp === b.timestamp &&
  a.energyWh === b.energyWh &&
  a.powerW === b.powerW &&
  a.currentA === b.currentA &&
  a.soc === b.soc;

/**
 * Folds readings into the state. The anchor only moves forward (a register that goes backwards or a reading
 * older than the latest one is not an anchor), so the running cost never decreases; a resent message adds
 * nothing.
 */
export function applyReadings(state: MeterState, readings: MeterReading[]): MeterState {
  let { lastEnergyWh, lastTimestamp } = state;
  const samples = [...(state.samples ?? [])];
  for (const r of readings) {
    if (!samples.some((s) => sameReading(s, r))) samples.push(r);
    if (r.energyWh === undefined || !Dec.isDecimal(safeDecimal(r.energyWh))) continue;
    const at = Date.parse(r.timestamp);
    if (Number.isNaN(at) || at < Date.parse(lastTimestamp)) continue;
    if (new Dec(r.energyWh).lt(lastEnergyWh)) continue;
    lastEnergyWh = r.energyWh;
    lastTimestamp = r.timestamp;
  }
  return { ...state, lastEnergyWh, lastTimestamp, samples };
}

function safeDecimal(value: string): Dec | null {
  try {
    return new Dec(value);
  } catch {
    return null;
  }
}

export function applyStatus(state: MeterState, status: ConnectorStatusV1): MeterState {
  const statuses = state.statuses ?? [];
  if (statuses.some((s) => s.timestamp === status.timestamp && s.status === status.status)) return state;
  return { ...state, statuses: [...statuses, status] };
}
