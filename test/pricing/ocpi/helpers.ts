import { localToInstant } from '../../../pricing/local-time';
import type { RatedSession, RatingInput, RatingPeriod, TariffDefinition } from '../../../pricing/model';
import { tariffFromOcpi } from '../../../pricing/ocpi/tariff';
import { durationThresholdsMs, energyThresholdsMWh, restrictionCuts } from '../../../pricing/restrictions';

/** One stretch of a session: charging (with energy spread evenly over it) or parked. */
export interface Segment {
  minutes: number;
  kwh?: number;
  parked?: boolean;
  minPowerKw?: number;
  maxPowerKw?: number;
  minCurrentA?: number;
  maxCurrentA?: number;
}

/**
 * A test session cut the way the meter timeline cuts a real one: at every restriction boundary, tariff
 * threshold and segment change, so each period has one matching element per dimension.
 */
export function buildSession(
  tariff: TariffDefinition,
  timeZone: string,
  localStart: { date: string; time: string },
  segments: Segment[],
  allowanceMWh?: number,
): RatingInput {
  const [h, m] = localStart.time.split(':').map(Number);
  const sessionStartMs = localToInstant(timeZone, localStart.date, h * 60 + m);
  const totalMs = segments.reduce((s, seg) => s + seg.minutes * 60_000, 0);
  const sessionEndMs = sessionStartMs + totalMs;
  const timeCuts = new Set(restrictionCuts(tariff, timeZone, sessionStartMs, sessionEndMs));
  for (const d of durationThresholdsMs(tariff)) {
    if (d > 0 && d < totalMs) timeCuts.add(sessionStartMs + d);
  }
  const energyCuts = energyThresholdsMWh(tariff);
  const periods: RatingPeriod[] = [];
  let t = sessionStartMs;
  let energy = 0;
  for (const seg of segments) {
    const segEnd = t + seg.minutes * 60_000;
    const segEnergy = Math.round((seg.kwh ?? 0) * 1_000_000);
    const rate = segEnergy / (segEnd - t);
    const segStart = t;
    const cuts = new Set([...timeCuts].filter((c) => c > t && c < segEnd));
    for (const e of energyCuts) {
      if (e > energy && e < energy + segEnergy) cuts.add(segStart + Math.round((e - energy) / rate));
    }
    const bounds = [t, ...[...cuts].sort((a, b) => a - b), segEnd];
    const energyAt = (ms: number) => {
      for (const e of energyCuts) {
        if (e > energy && e < energy + segEnergy && segStart + Math.round((e - energy) / rate) === ms)
          return e;
      }
      return energy + Math.round((ms - segStart) * rate);
    };
    let consumed = energy;
    for (let i = 0; i < bounds.length - 1; i++) {
      const to = i === bounds.length - 2 ? energy + segEnergy : energyAt(bounds[i + 1]);
      const ms = bounds[i + 1] - bounds[i];
      periods.push({
        startMs: bounds[i],
        energyMWh: to - consumed,
        timeMs: seg.parked ? 0 : ms,
        parkingMs: seg.parked ? ms : 0,
        minPowerKw: seg.minPowerKw,
        maxPowerKw: seg.maxPowerKw,
        minCurrentA: seg.minCurrentA,
        maxCurrentA: seg.maxCurrentA,
      });
      consumed = to;
    }
    energy += segEnergy;
    t = segEnd;
  }
  return { sessionStartMs, sessionEndMs, timeZone, periods, allowanceMWh };
}

/** An OCPI tariff from its interesting fields; the bookkeeping fields OCPI requires are filled in. */
export function ocpiTariff(fields: Record<string, unknown>): TariffDefinition {
  const { definition, problems } = tariffFromOcpi({
    country_code: 'NL',
    party_id: 'EVB',
    id: 'T1',
    currency: 'EUR',
    last_updated: '2025-01-01T00:00:00Z',
    ...fields,
  });
  if (!definition) throw new Error(`test tariff is invalid: ${JSON.stringify(problems)}`);
  return definition;
}

export function totals(r: RatedSession): { excl: string; incl: string } {
  return { excl: r.total_cost.excl_vat, incl: r.total_cost.incl_vat };
}
