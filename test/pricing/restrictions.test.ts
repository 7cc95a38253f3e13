import type { RatingPeriod, RestrictionsDef, TariffDefinition } from '../../pricing/model';
import {
  durationThresholdsMs,
  energyThresholdsMWh,
  restrictionCuts,
  restrictionsMatch,
} from '../../pricing/restrictions';

const at = (iso: string) => Date.parse(iso);
const TZ = 'Europe/Amsterdam';

function period(startIso: string, extra: Partial<RatingPeriod> = {}): RatingPeriod {
  return { startMs: at(startIso), energyMWh: 0, timeMs: 0, parkingMs: 0, ...extra };
}

function matches(
  r: RestrictionsDef | undefined,
  startIso: string,
  opts: { energyBeforeMWh?: number; sessionStartIso?: string; period?: Partial<RatingPeriod> } = {},
): boolean {
  return restrictionsMatch(r, {
    timeZone: TZ,
    sessionStartMs: at(opts.sessionStartIso ?? startIso),
    energyBeforeMWh: opts.energyBeforeMWh ?? 0,
    period: period(startIso, opts.period),
  });
}

describe('restrictionsMatch', () => {
  it('matches anything without restrictions', () => {
    expect(matches(undefined, '2025-01-06T10:00:00Z')).toBe(true);
    expect(matches({}, '2025-01-06T10:00:00Z')).toBe(true);
  });

  describe('time of day (local, start inclusive, end exclusive)', () => {
    const day = { start_time: '08:00', end_time: '18:00' };
    it.each([
      ['2025-01-06T06:59:59Z', false], // 07:59:59 CET
      ['2025-01-06T07:00:00Z', true], // 08:00 CET
      ['2025-01-06T16:59:59Z', true], // 17:59:59 CET
      ['2025-01-06T17:00:00Z', false], // 18:00 CET
    ])('08:00-18:00 at %s: %s', (iso, expected) => {
      expect(matches(day, iso)).toBe(expected);
    });

    const night = { start_time: '22:00', end_time: '06:00' };
    it.each([
      ['2025-01-06T20:59:00Z', false], // 21:59
      ['2025-01-06T21:00:00Z', true], // 22:00
      ['2025-01-06T23:30:00Z', true], // 00:30 next day
      ['2025-01-07T04:59:59Z', true], // 05:59:59
      ['2025-01-07T05:00:00Z', false], // 06:00
    ])('22:00-06:00 wraps midnight, at %s: %s', (iso, expected) => {
      expect(matches(night, iso)).toBe(expected);
    });

    it('reads end_time 00:00 as the end of the day', () => {
      const evening = { start_time: '18:00', end_time: '00:00' };
      expect(matches(evening, '2025-01-06T22:59:59Z')).toBe(true); // 23:59:59
      expect(matches(evening, '2025-01-06T23:00:00Z')).toBe(false); // 00:00
      expect(matches({ end_time: '00:00' }, '2025-01-06T12:00:00Z')).toBe(true);
      expect(matches({ start_time: '00:00', end_time: '00:00' }, '2025-01-06T23:00:00Z')).toBe(true);
    });

    it('uses summer time in summer', () => {
      expect(matches(day, '2025-07-07T06:00:00Z')).toBe(true); // 08:00 CEST
      expect(matches(day, '2025-07-07T05:59:00Z')).toBe(false);
    });

    it('handles only a start or only an end', () => {
      expect(matches({ start_time: '17:00' }, '2025-01-06T16:00:00Z')).toBe(true);
      expect(matches({ start_time: '17:00' }, '2025-01-06T15:59:00Z')).toBe(false);
      expect(matches({ end_time: '17:00' }, '2025-01-06T15:59:00Z')).toBe(true);
      expect(matches({ end_time: '17:00' }, '2025-01-06T16:00:00Z')).toBe(false);
    });
  });

  it('reads dates in local time, start_date included and end_date excluded', () => {
    const r = { start_date: '2025-01-10', end_date: '2025-01-12' };
    expect(matches(r, '2025-01-09T22:59:59Z')).toBe(false); // 2025-01-09 23:59:59 local
    expect(matches(r, '2025-01-09T23:00:00Z')).toBe(true); // 2025-01-10 00:00 local
    expect(matches(r, '2025-01-11T22:59:59Z')).toBe(true);
    expect(matches(r, '2025-01-11T23:00:00Z')).toBe(false); // 2025-01-12 local
  });

  it('reads the day of week in local time', () => {
    const weekend = { day_of_week: ['SATURDAY', 'SUNDAY'] as RestrictionsDef['day_of_week'] };
    expect(matches(weekend, '2025-01-10T22:59:59Z')).toBe(false); // Friday 23:59:59 local
    expect(matches(weekend, '2025-01-10T23:00:00Z')).toBe(true); // Saturday 00:00 local
    expect(matches(weekend, '2025-01-12T22:59:59Z')).toBe(true); // Sunday
    expect(matches(weekend, '2025-01-12T23:00:00Z')).toBe(false); // Monday
  });

  it('an empty day_of_week list (OCPI cardinality *) restricts nothing', () => {
    expect(matches({ day_of_week: [] }, '2025-01-06T10:00:00Z')).toBe(true);
  });

  it('compares energy consumed before the period: min_kwh inclusive, max_kwh exclusive', () => {
    const r = { min_kwh: 5, max_kwh: 20.5 };
    expect(matches(r, '2025-01-06T10:00:00Z', { energyBeforeMWh: 4_999_999 })).toBe(false);
    expect(matches(r, '2025-01-06T10:00:00Z', { energyBeforeMWh: 5_000_000 })).toBe(true);
    expect(matches(r, '2025-01-06T10:00:00Z', { energyBeforeMWh: 20_499_999 })).toBe(true);
    expect(matches(r, '2025-01-06T10:00:00Z', { energyBeforeMWh: 20_500_000 })).toBe(false);
  });

  it('compares the session duration at the period start: min inclusive, max exclusive', () => {
    const r = { min_duration: 1800, max_duration: 3600 };
    const sessionStartIso = '2025-01-06T10:00:00Z';
    expect(matches(r, '2025-01-06T10:29:59.999Z', { sessionStartIso })).toBe(false);
    expect(matches(r, '2025-01-06T10:30:00Z', { sessionStartIso })).toBe(true);
    expect(matches(r, '2025-01-06T10:59:59.999Z', { sessionStartIso })).toBe(true);
    expect(matches(r, '2025-01-06T11:00:00Z', { sessionStartIso })).toBe(false);
  });

  describe('power and current of the period', () => {
    const iso = '2025-01-06T10:00:00Z';
    it('compares min_power with the period minimum and max_power with its maximum', () => {
      const band = { min_power: 16, max_power: 32 };
      expect(matches(band, iso, { period: { minPowerKw: 16, maxPowerKw: 31.9 } })).toBe(true);
      expect(matches(band, iso, { period: { minPowerKw: 15.9, maxPowerKw: 20 } })).toBe(false);
      expect(matches(band, iso, { period: { minPowerKw: 20, maxPowerKw: 32 } })).toBe(false);
    });
    it('uses the one value a period carries for both bounds', () => {
      expect(matches({ max_current: 32 }, iso, { period: { maxCurrentA: 16 } })).toBe(true);
      expect(matches({ min_current: 32 }, iso, { period: { maxCurrentA: 16 } })).toBe(false);
      expect(matches({ min_current: 32 }, iso, { period: { minCurrentA: 43 } })).toBe(true);
    });
    it('does not match a power or current restriction when the period carries no measurement', () => {
      expect(matches({ max_power: 16 }, iso)).toBe(false);
      expect(matches({ min_current: 6 }, iso)).toBe(false);
    });
  });

  it('never matches a reservation element for a charging period', () => {
    expect(matches({ reservation: 'RESERVATION' }, '2025-01-06T10:00:00Z')).toBe(false);
    expect(matches({ reservation: 'RESERVATION_EXPIRES' }, '2025-01-06T10:00:00Z')).toBe(false);
  });

  it('needs every restriction of the element to hold', () => {
    const r = {
      start_time: '08:00',
      end_time: '18:00',
      day_of_week: ['MONDAY'] as RestrictionsDef['day_of_week'],
    };
    expect(matches(r, '2025-01-06T10:00:00Z')).toBe(true); // Monday 11:00
    expect(matches(r, '2025-01-07T10:00:00Z')).toBe(false); // Tuesday 11:00
  });
});

const tariff = (
  elements: TariffDefinition['elements'],
  extra: Partial<TariffDefinition> = {},
): TariffDefinition => ({
  currency: 'EUR',
  elements,
  ...extra,
});
const energy = (price: string) => ({ type: 'ENERGY' as const, price, vat: null, step_size: 1 });

describe('restrictionCuts', () => {
  const tou = tariff([
    { price_components: [energy('0.40')], restrictions: { start_time: '17:00', end_time: '21:00' } },
    { price_components: [energy('0.20')], restrictions: { start_time: '23:00', end_time: '07:00' } },
    { price_components: [energy('0.30')] },
  ]);

  it('lists every local boundary inside the range, sorted, in UTC', () => {
    const cuts = restrictionCuts(tou, TZ, at('2025-01-06T12:00:00Z'), at('2025-01-07T12:00:00Z'));
    expect(cuts.map((t) => new Date(t).toISOString())).toEqual([
      '2025-01-06T16:00:00.000Z', // 17:00
      '2025-01-06T20:00:00.000Z', // 21:00
      '2025-01-06T22:00:00.000Z', // 23:00
      '2025-01-07T06:00:00.000Z', // 07:00
    ]);
  });

  it('excludes the range ends themselves', () => {
    const cuts = restrictionCuts(tou, TZ, at('2025-01-06T16:00:00Z'), at('2025-01-06T20:00:00Z'));
    expect(cuts).toEqual([]);
  });

  it('is empty for a tariff without local restrictions or validity', () => {
    expect(
      restrictionCuts(tariff([{ price_components: [energy('0.3')] }]), TZ, 0, at('2030-01-01T00:00:00Z')),
    ).toEqual([]);
  });

  it('cuts at midnight for day-of-week restrictions and at the start/end dates', () => {
    const t = tariff([
      { price_components: [energy('0.2')], restrictions: { day_of_week: ['SUNDAY'] } },
      {
        price_components: [energy('0.1')],
        restrictions: { start_date: '2025-01-08', end_date: '2025-01-09' },
      },
      { price_components: [energy('0.3')] },
    ]);
    const cuts = restrictionCuts(t, TZ, at('2025-01-07T12:00:00Z'), at('2025-01-09T12:00:00Z'));
    expect(cuts.map((c) => new Date(c).toISOString())).toEqual([
      '2025-01-07T23:00:00.000Z',
      '2025-01-08T23:00:00.000Z',
    ]);
  });

  it('cuts at the tariff validity instants', () => {
    const t = tariff([{ price_components: [energy('0.3')] }], {
      start_date_time: '2025-01-06T08:00:00Z',
      end_date_time: '2025-01-06T20:00:00Z',
    });
    expect(restrictionCuts(t, 'UTC', at('2025-01-06T00:00:00Z'), at('2025-01-07T00:00:00Z'))).toEqual([
      at('2025-01-06T08:00:00Z'),
      at('2025-01-06T20:00:00Z'),
    ]);
  });

  it('gives both instants of a boundary the fall-back night repeats, and the jump itself', () => {
    const t = tariff([
      { price_components: [energy('0.2')], restrictions: { start_time: '02:30', end_time: '04:00' } },
      { price_components: [energy('0.3')] },
    ]);
    const cuts = restrictionCuts(t, TZ, at('2025-10-25T22:00:00Z'), at('2025-10-26T05:00:00Z'));
    expect(cuts.map((c) => new Date(c).toISOString())).toEqual([
      '2025-10-26T00:30:00.000Z', // 02:30 CEST
      '2025-10-26T01:00:00.000Z', // 03:00 CEST becomes 02:00 CET: leaves the window
      '2025-10-26T01:30:00.000Z', // 02:30 CET: inside again
      '2025-10-26T03:00:00.000Z', // 04:00 CET
    ]);
  });

  it('maps a boundary the spring-forward night skips to the jump', () => {
    const t = tariff([
      { price_components: [energy('0.2')], restrictions: { start_time: '02:30', end_time: '05:00' } },
      { price_components: [energy('0.3')] },
    ]);
    const cuts = restrictionCuts(t, TZ, at('2025-03-29T22:00:00Z'), at('2025-03-30T05:00:00Z'));
    expect(cuts.map((c) => new Date(c).toISOString())).toEqual([
      '2025-03-30T01:00:00.000Z', // 02:00 CET -> 03:00 CEST, inside the window from then on
      '2025-03-30T03:00:00.000Z', // 05:00 CEST
    ]);
  });

  it('leaves every period between consecutive cuts with one matching element', () => {
    const from = at('2025-10-24T00:00:00Z');
    const to = at('2025-10-28T00:00:00Z');
    const t = tariff([
      { price_components: [energy('0.4')], restrictions: { start_time: '17:00', end_time: '21:00' } },
      { price_components: [energy('0.2')], restrictions: { start_time: '23:00', end_time: '07:00' } },
      { price_components: [energy('0.1')], restrictions: { day_of_week: ['SUNDAY'] } },
      { price_components: [energy('0.3')] },
    ]);
    const bounds = [from, ...restrictionCuts(t, TZ, from, to), to];
    const firstMatch = (ms: number) =>
      t.elements.findIndex((e) =>
        restrictionsMatch(e.restrictions, {
          timeZone: TZ,
          sessionStartMs: from,
          energyBeforeMWh: 0,
          period: { startMs: ms, energyMWh: 0, timeMs: 0, parkingMs: 0 },
        }),
      );
    for (let i = 0; i < bounds.length - 1; i++) {
      const element = firstMatch(bounds[i]);
      for (let ms = bounds[i]; ms < bounds[i + 1]; ms += 60_000) expect(firstMatch(ms)).toBe(element);
    }
  });
});

describe('thresholds', () => {
  const t = tariff([
    { price_components: [energy('0')], restrictions: { max_kwh: 1.5, max_duration: 1800 } },
    {
      price_components: [energy('0.2')],
      restrictions: { min_kwh: 1.5, max_kwh: 20.000001, min_duration: 600 },
    },
    { price_components: [energy('0.5')], restrictions: { reservation: 'RESERVATION', max_duration: 900 } },
    { price_components: [energy('0.3')] },
  ]);
  it('lists the energy thresholds as integer mWh, sorted and unique', () => {
    expect(energyThresholdsMWh(t)).toEqual([1_500_000, 20_000_001]);
  });
  it('lists the duration thresholds as integer ms, ignoring reservation elements', () => {
    expect(durationThresholdsMs(t)).toEqual([600_000, 1_800_000]);
  });
});
