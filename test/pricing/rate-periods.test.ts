import fc from 'fast-check';
import type { PriceComponentDef, RatedSession, RatingPeriod, TariffDefinition } from '../../pricing/model';
import { Dec } from '../../pricing/money';
import { hoursText, kwhText, ratePeriods } from '../../pricing/rate-periods';
import { definitionFromSimpleComponents } from '../../pricing/tariff-definition';
import { buildSession, type Segment } from './ocpi/helpers';

const TZ = 'Europe/Amsterdam';
const MONDAY = '2025-01-06';

const pc = (
  type: PriceComponentDef['type'],
  price: string,
  vat: string | null = null,
  step_size = 1,
): PriceComponentDef => ({ type, price, vat, step_size });

const tariff = (
  elements: TariffDefinition['elements'],
  extra: Partial<TariffDefinition> = {},
): TariffDefinition => ({
  currency: 'EUR',
  elements,
  ...extra,
});

function rate(
  t: TariffDefinition,
  time: string,
  segments: Segment[],
  opts: { date?: string; allowanceMWh?: number } = {},
) {
  return ratePeriods(
    t,
    buildSession(t, TZ, { date: opts.date ?? MONDAY, time }, segments, opts.allowanceMWh),
  );
}

const charge = (minutes: number, kwh = 0, extra: Partial<Segment> = {}): Segment => ({
  minutes,
  kwh,
  ...extra,
});
const park = (minutes: number): Segment => ({ minutes, parked: true });
const lineSummary = (r: RatedSession) =>
  r.lines.map((l) => `${l.dimension} ${l.kind} e${l.elementIndex} ${l.quantity}${l.unit} ${l.amountExclVat}`);

/** Every cost field is the sum of its lines (min/max adjustments only in total_cost). */
function expectConsistent(r: RatedSession) {
  const sum = (
    pred: (l: RatedSession['lines'][number]) => boolean,
    field: 'amountExclVat' | 'amountInclVat',
  ) => r.lines.filter(pred).reduce((s, l) => s.add(l[field]), new Dec(0));
  const inBucket = (dim: string) => (l: RatedSession['lines'][number]) =>
    l.dimension === dim && l.kind !== 'min_price' && l.kind !== 'max_price';
  for (const [field, dim] of [
    ['total_fixed_cost', 'FLAT'],
    ['total_energy_cost', 'ENERGY'],
    ['total_time_cost', 'TIME'],
    ['total_parking_cost', 'PARKING_TIME'],
  ] as const) {
    expect(sum(inBucket(dim), 'amountExclVat').eq(r[field].excl_vat)).toBe(true);
    expect(sum(inBucket(dim), 'amountInclVat').eq(r[field].incl_vat)).toBe(true);
  }
  expect(sum(() => true, 'amountExclVat').eq(r.total_cost.excl_vat)).toBe(true);
  expect(sum(() => true, 'amountInclVat').eq(r.total_cost.incl_vat)).toBe(true);
  for (const l of r.lines) expect(new Dec(l.amountExclVat).add(l.vatAmount).eq(l.amountInclVat)).toBe(true);
}

describe('ratePeriods: shapes', () => {
  it('flat fee: once per session, however many periods', () => {
    const t = tariff([{ price_components: [pc('FLAT', '1.50', '21')] }]);
    const r = rate(t, '10:00', [charge(30, 5), charge(30, 5), park(10)]);
    expect(lineSummary(r)).toEqual(['FLAT usage e0 1session 1.50']);
    expect(r.total_fixed_cost).toEqual({ excl_vat: '1.50', incl_vat: '1.82' });
    expectConsistent(r);
  });

  it('flat fee comes from the first period with a matching FLAT element', () => {
    const t = tariff([
      { price_components: [pc('FLAT', '2.00')], restrictions: { start_time: '11:00', end_time: '12:00' } },
      { price_components: [pc('ENERGY', '0.30')] },
    ]);
    expect(rate(t, '10:30', [charge(60, 10)]).total_fixed_cost.excl_vat).toBe('2.00');
    expect(rate(t, '09:00', [charge(60, 10)]).total_fixed_cost.excl_vat).toBe('0.00');
  });

  it('per kWh: one line per element, energy exact in kWh', () => {
    const t = tariff([{ price_components: [pc('ENERGY', '0.359', '21')] }]);
    const r = rate(t, '10:00', [charge(60, 12.345)]);
    expect(lineSummary(r)).toEqual(['ENERGY usage e0 12.345kWh 4.43']);
    expect(r.total_energy).toBe('12.345');
    expect(r.total_energy_cost).toEqual({ excl_vat: '4.43', incl_vat: '5.36' });
  });

  it('per minute (simple components): priced per hour at 60 x the minute price, billed by the ms', () => {
    const t = definitionFromSimpleComponents('EUR', [
      { type: 'flat_fee', price: '0.50' },
      { type: 'per_kwh', price: '0.30' },
      { type: 'per_minute', price: '0.05' },
    ]);
    expect(t.elements[0].price_components[2]).toEqual({ type: 'TIME', price: '3', vat: null, step_size: 1 });
    const r = rate(t, '10:00', [charge(45, 7.5)]);
    expect(lineSummary(r)).toEqual([
      'FLAT usage e0 1session 0.50',
      'ENERGY usage e0 7.5kWh 2.25',
      'TIME usage e0 0.75h 2.25',
    ]);
  });

  it('time amounts are exact products: 1 s at 3600.01/h is 1.00 (no per-hour rounding)', () => {
    const t = tariff([{ price_components: [pc('TIME', '3600.01')] }]);
    const r = ratePeriods(t, {
      sessionStartMs: 0,
      sessionEndMs: 1000,
      timeZone: 'UTC',
      periods: [{ startMs: 0, energyMWh: 0, timeMs: 1000, parkingMs: 0 }],
    });
    // The quantity is shown to 6 decimals; the amount is 3600.01 x 1000 / 3,600,000 = 1.0000027...
    expect(r.lines[0]).toMatchObject({ quantity: '0.000278', amountExclVat: '1.00' });
  });

  describe('parking with the idle extension', () => {
    const parking = (idle?: TariffDefinition['idle']) =>
      tariff([{ price_components: [pc('ENERGY', '0.30', '21'), pc('PARKING_TIME', '6.00', '21', 60)] }], {
        idle,
      });

    it('bills all parking without a grace period', () => {
      const r = rate(parking(), '10:00', [charge(60, 10), park(30)]);
      expect(r.total_parking_cost.excl_vat).toBe('3.00');
    });

    it('does not bill the first grace seconds and shows them on a zero idle_grace line', () => {
      const r = rate(parking({ grace_period_seconds: 600 }), '10:00', [charge(60, 10), park(30)]);
      expect(
        r.lines
          .filter((l) => l.dimension === 'PARKING_TIME')
          .map((l) => [l.kind, l.quantity, l.unitPrice, l.amountExclVat]),
      ).toEqual([
        ['usage', '0.333333', '6.00', '2.00'],
        ['idle_grace', '0.166667', '0', '0.00'],
      ]);
      expect(r.total_parking_time).toBe('0.5');
      expectConsistent(r);
    });

    it('counts the grace period over all parking of the session, in order', () => {
      const r = rate(parking({ grace_period_seconds: 600 }), '10:00', [
        charge(30, 5),
        park(4),
        charge(30, 5),
        park(20),
      ]);
      // 4 + 6 minutes of grace, 14 minutes billed.
      expect(r.total_parking_cost.excl_vat).toBe('1.40');
    });

    it('rounds the billed parking (after grace) up to the step', () => {
      const t = tariff([{ price_components: [pc('PARKING_TIME', '6.00', null, 900)] }], {
        idle: { grace_period_seconds: 600 },
      });
      const r = rate(t, '10:00', [charge(10, 1), park(11)]);
      // 1 minute billed, rounded up to 15.
      expect(lineSummary(r)).toEqual([
        'PARKING_TIME usage e0 0.016667h 0.10',
        'PARKING_TIME idle_grace e0 0.166667h 0.00',
        'PARKING_TIME step e0 0.233333h 1.40',
      ]);
    });

    it('caps the parking cost excl. VAT with a negative idle_cap line carrying its VAT', () => {
      const r = rate(parking({ grace_period_seconds: 0, max_cost: '10' }), '10:00', [
        charge(60, 10),
        park(180),
      ]);
      const cap = r.lines.find((l) => l.kind === 'idle_cap');
      expect(cap).toMatchObject({
        amountExclVat: '-8.00',
        vatRate: '21',
        vatAmount: '-1.68',
        elementIndex: null,
      });
      expect(r.total_parking_cost).toEqual({ excl_vat: '10.00', incl_vat: '12.10' });
      expectConsistent(r);
    });

    it('adds no cap line below the cap', () => {
      const r = rate(parking({ grace_period_seconds: 0, max_cost: '10' }), '10:00', [
        charge(60, 10),
        park(60),
      ]);
      expect(r.lines.some((l) => l.kind === 'idle_cap')).toBe(false);
    });
  });

  describe('time of day', () => {
    const tou = tariff([
      { price_components: [pc('ENERGY', '0.40')], restrictions: { start_time: '17:00', end_time: '21:00' } },
      { price_components: [pc('ENERGY', '0.20')], restrictions: { start_time: '23:00', end_time: '07:00' } },
      { price_components: [pc('ENERGY', '0.30')] },
    ]);

    it('splits a session over peak, shoulder and the night window', () => {
      // 16:00-24:00, 1 kWh per hour: 1 h shoulder, 4 h peak, 2 h shoulder, 1 h night.
      const r = rate(tou, '16:00', [charge(480, 8)]);
      expect(lineSummary(r)).toEqual([
        'ENERGY usage e0 4kWh 1.60',
        'ENERGY usage e1 1kWh 0.20',
        'ENERGY usage e2 3kWh 0.90',
      ]);
    });

    it('follows the night window over midnight', () => {
      const r = rate(tou, '22:00', [charge(600, 10)]);
      // 22-23 shoulder, 23-07 night, 07-08 shoulder.
      expect(lineSummary(r)).toEqual(['ENERGY usage e1 8kWh 1.60', 'ENERGY usage e2 2kWh 0.60']);
    });

    it('keeps local time across the DST change', () => {
      // Sunday 2025-03-30: the night 23:00-07:00 has only 7 real hours.
      const r = rate(tou, '22:00', [charge(600, 10)], { date: '2025-03-29' });
      expect(lineSummary(r)).toEqual(['ENERGY usage e1 7kWh 1.40', 'ENERGY usage e2 3kWh 0.90']);
    });
  });

  it('day of week: a weekend price from Saturday 00:00 local', () => {
    const t = tariff([
      { price_components: [pc('ENERGY', '0.20')], restrictions: { day_of_week: ['SATURDAY', 'SUNDAY'] } },
      { price_components: [pc('ENERGY', '0.30')] },
    ]);
    const r = rate(t, '23:00', [charge(120, 2)], { date: '2025-01-10' });
    expect(lineSummary(r)).toEqual(['ENERGY usage e0 1kWh 0.20', 'ENERGY usage e1 1kWh 0.30']);
  });

  it('start_date / end_date: a promotion valid on local dates', () => {
    const t = tariff([
      {
        price_components: [pc('ENERGY', '0.10')],
        restrictions: { start_date: '2025-01-07', end_date: '2025-01-08' },
      },
      { price_components: [pc('ENERGY', '0.30')] },
    ]);
    expect(lineSummary(rate(t, '23:30', [charge(60, 2)]))).toEqual([
      'ENERGY usage e0 1kWh 0.10',
      'ENERGY usage e1 1kWh 0.30',
    ]);
  });

  it('tariff validity does not switch prices inside a session: the tariff valid at the start applies', () => {
    const t = tariff([{ price_components: [pc('ENERGY', '0.30')] }], {
      end_date_time: '2025-01-06T10:00:00Z',
    });
    expect(rate(t, '10:30', [charge(60, 2)]).total_cost.excl_vat).toBe('0.60');
  });

  it('min_kwh / max_kwh: the price changes once the energy before a period reaches the threshold', () => {
    const t = tariff([
      { price_components: [pc('ENERGY', '0.00')], restrictions: { max_kwh: 2 } },
      { price_components: [pc('ENERGY', '0.40')], restrictions: { min_kwh: 2, max_kwh: 10 } },
      { price_components: [pc('ENERGY', '0.25')] },
    ]);
    expect(lineSummary(rate(t, '10:00', [charge(120, 12)]))).toEqual([
      'ENERGY usage e0 2kWh 0.00',
      'ENERGY usage e1 8kWh 3.20',
      'ENERGY usage e2 2kWh 0.50',
    ]);
  });

  it('min_duration / max_duration: charging time gets dearer after an hour', () => {
    const t = tariff([
      { price_components: [pc('TIME', '2.00')], restrictions: { max_duration: 3600 } },
      { price_components: [pc('TIME', '5.00')], restrictions: { min_duration: 3600 } },
    ]);
    expect(lineSummary(rate(t, '10:00', [charge(90, 10)]))).toEqual([
      'TIME usage e0 1h 2.00',
      'TIME usage e1 0.5h 2.50',
    ]);
  });

  it('min/max power and current choose the element per period', () => {
    const t = tariff([
      { price_components: [pc('ENERGY', '0.59')], restrictions: { min_power: 50 } },
      { price_components: [pc('ENERGY', '0.45')], restrictions: { min_current: 16, max_current: 32 } },
      { price_components: [pc('ENERGY', '0.35')] },
    ]);
    const r = rate(t, '10:00', [
      charge(30, 40, { minPowerKw: 75, maxPowerKw: 150 }),
      charge(30, 10, { minPowerKw: 11, maxPowerKw: 22, minCurrentA: 16, maxCurrentA: 31 }),
      charge(30, 3, { minPowerKw: 3, maxPowerKw: 7, minCurrentA: 10, maxCurrentA: 16 }),
    ]);
    expect(lineSummary(r)).toEqual([
      'ENERGY usage e0 40kWh 23.60',
      'ENERGY usage e1 10kWh 4.50',
      'ENERGY usage e2 3kWh 1.05',
    ]);
  });

  it('reservation elements never price a charging period', () => {
    const t = tariff([
      {
        price_components: [pc('TIME', '9.00'), pc('FLAT', '3.00')],
        restrictions: { reservation: 'RESERVATION' },
      },
      { price_components: [pc('TIME', '1.00')] },
    ]);
    expect(lineSummary(rate(t, '10:00', [charge(60, 5)]))).toEqual(['TIME usage e1 1h 1.00']);
  });

  it('a dimension no element prices is free', () => {
    const t = tariff([
      { price_components: [pc('ENERGY', '0.30')], restrictions: { start_time: '08:00', end_time: '20:00' } },
    ]);
    expect(lineSummary(rate(t, '19:00', [charge(120, 4)]))).toEqual(['ENERGY usage e0 2kWh 0.60']);
  });

  describe('step sizes', () => {
    it('rounds the session energy total once, with the last energy component, as a step line', () => {
      const t = tariff([{ price_components: [pc('ENERGY', '0.30', '21', 1000)] }]);
      const r = rate(t, '10:00', [charge(60, 10.2)]);
      expect(lineSummary(r)).toEqual(['ENERGY usage e0 10.2kWh 3.06', 'ENERGY step e0 0.8kWh 0.24']);
      expect(r.lines[1]).toMatchObject({ vatRate: '21', vatAmount: '0.05' });
    });

    it('adds no step line when the total is already a whole number of steps', () => {
      const t = tariff([{ price_components: [pc('TIME', '3.00', null, 900)] }]);
      expect(lineSummary(rate(t, '10:00', [charge(45, 5)]))).toEqual(['TIME usage e0 0.75h 2.25']);
    });

    it('rounds charging time when no parking is billed, parking time only when it is', () => {
      const t = tariff([
        { price_components: [pc('TIME', '6.00', null, 600), pc('PARKING_TIME', '6.00', null, 600)] },
      ]);
      expect(rate(t, '10:00', [charge(21, 3)]).total_time_cost.excl_vat).toBe('3.00');
      const both = rate(t, '10:00', [charge(21, 3), park(1)]);
      expect(both.total_time_cost.excl_vat).toBe('2.10');
      expect(both.total_parking_cost.excl_vat).toBe('1.00');
    });
  });

  describe('min_price / max_price', () => {
    it('raises a cheap session to min_price, deriving incl. VAT from the lines when not given', () => {
      const t = tariff([{ price_components: [pc('ENERGY', '0.30', '21')] }], {
        min_price: { excl_vat: '2.00' },
      });
      const r = rate(t, '10:00', [charge(10, 1)]);
      expect(r.lines.at(-1)).toMatchObject({
        kind: 'min_price',
        dimension: 'FLAT',
        amountExclVat: '1.70',
        vatRate: '21',
      });
      expect(r.total_cost).toEqual({ excl_vat: '2.00', incl_vat: '2.42' });
      expect(r.total_energy_cost.excl_vat).toBe('0.30');
      expect(r.total_fixed_cost.excl_vat).toBe('0.00');
      expectConsistent(r);
    });

    it('caps an expensive session at max_price, each of excl. and incl. VAT on its own', () => {
      const t = tariff([{ price_components: [pc('FLAT', '1.00', '21'), pc('ENERGY', '0.50', '9')] }], {
        max_price: { excl_vat: '20.00', incl_vat: '22.00' },
      });
      const r = rate(t, '10:00', [charge(120, 50)]);
      expect(r.total_cost).toEqual({ excl_vat: '20.00', incl_vat: '22.00' });
      expect(r.lines.at(-1)).toMatchObject({
        kind: 'max_price',
        vatRate: null,
        amountExclVat: '-6.00',
        amountInclVat: '-6.46',
      });
    });

    it('leaves the session alone between the limits', () => {
      const t = tariff([{ price_components: [pc('ENERGY', '0.50')] }], {
        min_price: { excl_vat: '1.00' },
        max_price: { excl_vat: '20.00' },
      });
      const r = rate(t, '10:00', [charge(60, 10)]);
      expect(r.lines).toHaveLength(1);
    });
  });

  it('VAT per component, each line rounded once', () => {
    const t = tariff([
      { price_components: [pc('FLAT', '0.99', '20'), pc('ENERGY', '0.333', '5.5'), pc('TIME', '1.00')] },
    ]);
    const r = rate(t, '10:00', [charge(60, 3)]);
    expect(
      r.lines.map((l) => [l.dimension, l.amountExclVat, l.vatRate, l.vatAmount, l.amountInclVat]),
    ).toEqual([
      ['FLAT', '0.99', '20', '0.20', '1.19'],
      ['ENERGY', '1.00', '5.5', '0.06', '1.06'],
      ['TIME', '1.00', null, '0.00', '1.00'],
    ]);
    expect(r.total_cost).toEqual({ excl_vat: '2.99', incl_vat: '3.25' });
  });

  it('JPY has no minor unit and KWD three decimals', () => {
    const jpy = ratePeriods(
      tariff([{ price_components: [pc('ENERGY', '45.5', '10')] }], { currency: 'JPY' }),
      {
        sessionStartMs: 0,
        sessionEndMs: 3_600_000,
        timeZone: 'Asia/Tokyo',
        periods: [{ startMs: 0, energyMWh: 10_100_000, timeMs: 3_600_000, parkingMs: 0 }],
      },
    );
    // 10.1 kWh x 45.5 = 459.55 -> 460; VAT 46.
    expect(jpy.total_cost).toEqual({ excl_vat: '460', incl_vat: '506' });
    const kwd = ratePeriods(tariff([{ price_components: [pc('ENERGY', '0.0345')] }], { currency: 'KWD' }), {
      sessionStartMs: 0,
      sessionEndMs: 3_600_000,
      timeZone: 'Asia/Kuwait',
      periods: [{ startMs: 0, energyMWh: 10_100_000, timeMs: 3_600_000, parkingMs: 0 }],
    });
    // 0.34845 -> 0.348
    expect(kwd.total_cost).toEqual({ excl_vat: '0.348', incl_vat: '0.348' });
  });

  describe('allowance', () => {
    const t = tariff([
      {
        price_components: [pc('ENERGY', '0.20', '21')],
        restrictions: { start_time: '23:00', end_time: '07:00' },
      },
      { price_components: [pc('ENERGY', '0.40', '21', 1000)] },
    ]);

    it('bills the session first allowance kWh at zero, chronologically, and shows them', () => {
      // 22:00-24:00, 1 kWh per hour: the allowance of 1.5 kWh covers the 22:00 hour and half of the next.
      const r = rate(t, '22:00', [charge(120, 2)], { allowanceMWh: 1_500_000 });
      expect(lineSummary(r)).toEqual([
        'ENERGY usage e0 0.5kWh 0.10',
        'ENERGY allowance e0 0.5kWh 0.00',
        'ENERGY allowance e1 1kWh 0.00',
      ]);
      expect(r.lines.find((l) => l.kind === 'allowance')).toMatchObject({
        unitPrice: '0',
        vatAmount: '0.00',
      });
    });

    it('lets an allowance larger than the energy also cover the step rounding', () => {
      const r = rate(t, '10:00', [charge(60, 0.4)], { allowanceMWh: 5_000_000 });
      expect(r.total_cost.excl_vat).toBe('0.00');
      expect(lineSummary(r)).toEqual(['ENERGY allowance e1 1kWh 0.00']);
    });
  });
});

describe('ratePeriods: totals and input', () => {
  it('total_time is the session duration, total_parking_time the parking, total_energy all energy', () => {
    const t = tariff([{ price_components: [pc('ENERGY', '0.30')] }]);
    const r = rate(t, '10:00', [charge(90, 7.25), park(30)]);
    expect([r.total_energy, r.total_time, r.total_parking_time]).toEqual(['7.25', '2', '0.5']);
  });

  it('rates a session without periods as its flat fee', () => {
    const t = tariff([{ price_components: [pc('FLAT', '1.00'), pc('ENERGY', '0.30')] }]);
    const r = ratePeriods(t, { sessionStartMs: 0, sessionEndMs: 0, timeZone: 'UTC', periods: [] });
    expect(r.total_cost.excl_vat).toBe('1.00');
  });

  it.each<[string, Partial<RatingPeriod>]>([
    ['negative energy', { energyMWh: -1 }],
    ['fractional ms', { timeMs: 0.5 }],
    ['NaN parking', { parkingMs: NaN }],
  ])('refuses %s', (_name, bad) => {
    const t = tariff([{ price_components: [pc('ENERGY', '0.30')] }]);
    expect(() =>
      ratePeriods(t, {
        sessionStartMs: 0,
        sessionEndMs: 1000,
        timeZone: 'UTC',
        periods: [{ startMs: 0, energyMWh: 0, timeMs: 0, parkingMs: 0, ...bad }],
      }),
    ).toThrow(RangeError);
  });

  it('refuses periods out of order and an end before the start', () => {
    const t = tariff([{ price_components: [pc('ENERGY', '0.30')] }]);
    const p = (startMs: number) => ({ startMs, energyMWh: 0, timeMs: 0, parkingMs: 0 });
    expect(() =>
      ratePeriods(t, { sessionStartMs: 0, sessionEndMs: 10, timeZone: 'UTC', periods: [p(5), p(1)] }),
    ).toThrow(RangeError);
    expect(() =>
      ratePeriods(t, { sessionStartMs: 10, sessionEndMs: 0, timeZone: 'UTC', periods: [] }),
    ).toThrow(RangeError);
  });

  it('formats quantities exactly (kWh) and to 6 decimals (hours)', () => {
    expect(kwhText(1)).toBe('0.000001');
    expect(kwhText(20_450_000)).toBe('20.45');
    expect(hoursText(3_600_000)).toBe('1');
    expect(hoursText(1800)).toBe('0.0005');
    expect(hoursText(1)).toBe('0');
    expect(hoursText(2)).toBe('0.000001');
  });

  it('keeps every cost field equal to the sum of its lines for arbitrary sessions', () => {
    const t = tariff(
      [
        {
          price_components: [pc('ENERGY', '0.413', '21', 100), pc('PARKING_TIME', '4.99', '9', 300)],
          restrictions: { start_time: '17:00', end_time: '21:00' },
        },
        {
          price_components: [pc('ENERGY', '0.2'), pc('TIME', '0.75', '21', 60)],
          restrictions: { min_kwh: 20 },
        },
        {
          price_components: [
            pc('FLAT', '0.35', '21'),
            pc('ENERGY', '0.333', '21'),
            pc('PARKING_TIME', '2.5', '21', 60),
          ],
        },
      ],
      {
        min_price: { excl_vat: '1.00' },
        max_price: { excl_vat: '60.00', incl_vat: '70.00' },
        idle: { grace_period_seconds: 300, max_cost: '8' },
      },
    );
    const segment = fc.record({
      minutes: fc.integer({ min: 1, max: 240 }),
      kwh: fc.integer({ min: 0, max: 30_000 }).map((wh) => wh / 1000),
      parked: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 23 }),
        (segments, hour) => {
          const segs = segments.map((s) =>
            s.parked ? { minutes: s.minutes, parked: true } : { minutes: s.minutes, kwh: s.kwh },
          );
          const r = rate(t, `${String(hour).padStart(2, '0')}:00`, segs, { allowanceMWh: 2_000_000 });
          expectConsistent(r);
          expect(new Dec(r.total_cost.excl_vat).gte(1)).toBe(true);
          expect(new Dec(r.total_cost.excl_vat).lte(60)).toBe(true);
          expect(new Dec(r.total_parking_cost.excl_vat).lte(8)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
