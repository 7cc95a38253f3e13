import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cdrToRatingInput, rateCdr, verifyCdr } from '../../../pricing/ocpi/cdr';
import { tariffFromOcpi } from '../../../pricing/ocpi/tariff';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, 'fixtures', name), 'utf8'));
const tariff = tariffFromOcpi(fixture('tariff-parking.json')).definition!;
const at = (iso: string) => Date.parse(iso);

describe('cdrToRatingInput', () => {
  it('turns dimensions into integer quantities: kWh -> mWh, hours -> ms, power and current as given', () => {
    const { input, problems } = cdrToRatingInput(fixture('cdr-parking.json'), {
      timeZone: 'Europe/Amsterdam',
    });
    expect(problems).toEqual([]);
    expect(input).toEqual({
      sessionStartMs: at('2025-01-06T09:00:00Z'),
      sessionEndMs: at('2025-01-06T11:10:00Z'),
      timeZone: 'Europe/Amsterdam',
      allowanceMWh: undefined,
      periods: [
        {
          startMs: at('2025-01-06T09:00:00Z'),
          energyMWh: 20_000_000,
          timeMs: 5_400_000,
          parkingMs: 0,
          maxPowerKw: 22,
        },
        // 0.6667 h is 2,400,120 ms exactly.
        { startMs: at('2025-01-06T10:30:00Z'), energyMWh: 0, timeMs: 0, parkingMs: 2_400_120 },
      ],
    });
  });

  it('converts written decimals exactly, without float error', () => {
    const { input } = cdrToRatingInput([
      { start_date_time: '2025-01-06T09:00:00Z', dimensions: [{ type: 'ENERGY', volume: 0.1 + 0.2 }] },
    ]);
    // 0.1 + 0.2 is written 0.30000000000000004 in JSON: 300,000.00000000004 mWh, rounded to an integer.
    expect(input!.periods[0].energyMWh).toBe(300_000);
  });

  it('defaults the end of bare periods to the last period plus its TIME and PARKING_TIME, and says so', () => {
    const { input, notes } = cdrToRatingInput(fixture('periods.json'));
    expect(input!.sessionEndMs).toBe(at('2025-01-06T10:30:00Z') + 2_400_120);
    expect(notes[0]).toMatch(/No session end given/);
    expect(
      cdrToRatingInput(fixture('periods.json'), { endMs: at('2025-01-06T12:00:00Z') }).input!.sessionEndMs,
    ).toBe(at('2025-01-06T12:00:00Z'));
  });

  it('notes dimensions it does not rate', () => {
    const { notes } = cdrToRatingInput([
      {
        start_date_time: '2025-01-06T09:00:00Z',
        dimensions: [
          { type: 'RESERVATION_TIME', volume: 0.25 },
          { type: 'STATE_OF_CHARGE', volume: 80 },
        ],
      },
    ]);
    expect(notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/RESERVATION_TIME volumes are not rated/)]),
    );
    expect(notes).toEqual(expect.arrayContaining(['Ignored session-only dimensions: STATE_OF_CHARGE.']));
  });

  it.each<[string, unknown, string]>([
    ['no periods', { ...fixture('cdr-parking.json'), charging_periods: [] }, 'charging_periods'],
    [
      'negative energy',
      [{ start_date_time: '2025-01-06T09:00:00Z', dimensions: [{ type: 'ENERGY', volume: -1 }] }],
      'charging_periods[0].dimensions[0].volume',
    ],
    [
      'an unknown dimension',
      [{ start_date_time: '2025-01-06T09:00:00Z', dimensions: [{ type: 'FLAT', volume: 1 }] }],
      'charging_periods[0].dimensions[0].type',
    ],
    [
      'a repeated dimension',
      [
        {
          start_date_time: '2025-01-06T09:00:00Z',
          dimensions: [
            { type: 'TIME', volume: 1 },
            { type: 'TIME', volume: 1 },
          ],
        },
      ],
      'charging_periods[0].dimensions[1].type',
    ],
    [
      'periods out of order',
      [
        { start_date_time: '2025-01-06T10:00:00Z', dimensions: [{ type: 'TIME', volume: 1 }] },
        { start_date_time: '2025-01-06T09:00:00Z', dimensions: [{ type: 'TIME', volume: 1 }] },
      ],
      'charging_periods[1].start_date_time',
    ],
    [
      'a missing end_date_time',
      { ...fixture('cdr-parking.json'), end_date_time: undefined },
      'end_date_time',
    ],
    [
      'a period after the end',
      { ...fixture('cdr-parking.json'), end_date_time: '2025-01-06T10:00:00Z' },
      'charging_periods',
    ],
  ])('refuses %s, naming the field', (_name, json, param) => {
    const { input, problems } = cdrToRatingInput(json);
    expect(input).toBeUndefined();
    expect(problems.map((p) => p.param)).toContain(param);
  });

  it('refuses an unknown time zone', () => {
    expect(
      cdrToRatingInput(fixture('cdr-parking.json'), { timeZone: 'Europe/Atlantis' }).problems[0].param,
    ).toBe('time_zone');
  });
});

describe('rateCdr', () => {
  it('rates the CDR periods with the tariff: "20 kWh ... parked for 40 minutes ... 7.00 / 7.90"', () => {
    const { rated } = rateCdr(tariff, fixture('cdr-parking.json'));
    expect(rated!.total_cost).toEqual({ excl_vat: '7.00', incl_vat: '7.90' });
  });
});

describe('verifyCdr', () => {
  it('finds no difference in a CDR that agrees', () => {
    const v = verifyCdr(tariff, fixture('cdr-parking.json'));
    expect(v.problems).toEqual([]);
    expect(v.differences).toEqual([]);
  });

  it('names each differing field, both stated and ours, with the lines and periods involved', () => {
    const v = verifyCdr(tariff, fixture('cdr-parking-unrounded-parking.json'));
    expect(v.differences.map((d) => [d.field, d.stated, d.ours])).toEqual([
      ['total_cost.excl_vat', '6.83', '7.00'],
      ['total_cost.incl_vat', '7.7', '7.90'],
      ['total_parking_cost.excl_vat', '1.33', '1.50'],
      ['total_parking_cost.incl_vat', '1.6', '1.80'],
    ]);
    expect(v.differences[0].explanation).toMatch(/the difference is in total_parking_cost/);
    expect(v.differences[2].explanation).toMatch(/line 3 PARKING_TIME step \(element 0\)/);
    expect(v.differences[2].explanation).toMatch(/periods #1 \(2025-01-06T10:30:00\.000Z\)/);
  });

  it('compares quantities at the decimals the CDR wrote (at least 3)', () => {
    const base = fixture('cdr-parking.json');
    expect(verifyCdr(tariff, { ...base, total_time: 2.167 }).differences).toEqual([]);
    const off = verifyCdr(tariff, { ...base, total_time: 2.17, total_energy: 20.01 }).differences;
    expect(off.map((d) => d.field)).toEqual(['total_energy', 'total_time']);
    expect(off[1].explanation).toMatch(/end_date_time - start_date_time = 7800000 ms/);
    expect(off[0].explanation).toMatch(/ENERGY volumes of periods #0/);
  });

  it('flags a cost the CDR leaves out only when ours is not zero', () => {
    const base = fixture('cdr-parking.json');
    const withoutParking = { ...base, total_parking_cost: undefined, total_time_cost: undefined };
    expect(verifyCdr(tariff, withoutParking).differences.map((d) => [d.field, d.stated])).toEqual([
      ['total_parking_cost', 'absent'],
    ]);
  });

  it('points at the time zone when no element priced a dimension', () => {
    const evening = tariffFromOcpi({
      ...fixture('tariff-parking.json'),
      elements: [
        {
          price_components: [{ type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 }],
          restrictions: { start_time: '18:00', end_time: '23:00' },
        },
      ],
    }).definition!;
    const d = verifyCdr(evening, fixture('cdr-parking.json')).differences.find(
      (x) => x.field === 'total_energy_cost.excl_vat',
    );
    expect(d!.explanation).toMatch(/no tariff element priced ENERGY .* time zone, now UTC/);
  });

  it('says when the currency differs', () => {
    const v = verifyCdr(tariff, { ...fixture('cdr-parking.json'), currency: 'CHF' });
    expect(v.differences[0]).toMatchObject({ field: 'currency', stated: 'CHF', ours: 'EUR' });
  });

  it('needs a whole CDR', () => {
    expect(verifyCdr(tariff, fixture('periods.json')).problems[0].message).toMatch(/whole CDR/);
  });
});
