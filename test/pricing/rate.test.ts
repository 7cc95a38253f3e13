import { Dec, formatMoney, minorUnitDigits, priceSession, roundToMinor, toMinorUnits } from '../../pricing';
import type { TariffVersion } from '../../pricing';
import { checkTariffInput } from '../../pricing/tariff';

const tariff = (currency: string, components: TariffVersion['components']): TariffVersion => ({
  tariffId: 'tar_1',
  versionId: 'tarv_1',
  version: 1,
  currency,
  components,
});

describe('priceSession', () => {
  const standard = tariff('EUR', [
    { type: 'flat_fee', price: '1.00' },
    { type: 'per_kwh', price: '0.35' },
    { type: 'per_minute', price: '0.05' },
  ]);

  it('prices flat + energy + time, each line rounded once', () => {
    // 12.345 kWh * 0.35 = 4.32075 -> 4.32; 30 min * 0.05 = 1.50
    const priced = priceSession(standard, { energyWh: '12345', durationSeconds: 1800 });
    expect(priced.lines.map((l) => l.amount)).toEqual(['1.00', '4.32', '1.50']);
    expect(priced.total).toBe('6.82');
    expect(priced.energyKwh).toBe('12.345');
  });

  it('makes the total the sum of the rounded lines, even when exact sums would round differently', () => {
    // Each line is 0.005 exactly -> 0.01 each; the exact sum 0.015 would round to 0.02, the receipt says 0.03.
    const t = tariff('EUR', [
      { type: 'per_kwh', price: '0.005' },
      { type: 'per_minute', price: '0.005' },
      { type: 'flat_fee', price: '0.005' },
    ]);
    const priced = priceSession(t, { energyWh: '1000', durationSeconds: 60 });
    expect(priced.lines.map((l) => l.amount)).toEqual(['0.01', '0.01', '0.01']);
    expect(priced.total).toBe('0.03');
    const sum = priced.lines.reduce((s, l) => s.add(l.amount), new Dec(0));
    expect(sum.toFixed(2)).toBe(priced.total);
  });

  it('charges time by the second', () => {
    const t = tariff('EUR', [{ type: 'per_minute', price: '0.60' }]);
    // 90 s = 1.5 min * 0.60 = 0.90
    expect(priceSession(t, { energyWh: '0', durationSeconds: 90 }).total).toBe('0.90');
    const line = priceSession(t, { energyWh: '0', durationSeconds: 61 }).lines[0];
    expect(line.quantity).toBe('1.0167');
    expect(line.amount).toBe('0.61');
  });

  it('uses the currency minor units: JPY 0, KWD 3', () => {
    const jpy = priceSession(tariff('JPY', [{ type: 'per_kwh', price: '45.5' }]), {
      energyWh: '10100',
      durationSeconds: 0,
    });
    expect(jpy.total).toBe('460'); // 459.55 -> 460
    const kwd = priceSession(tariff('KWD', [{ type: 'per_kwh', price: '0.0125' }]), {
      energyWh: '7777',
      durationSeconds: 0,
    });
    expect(kwd.total).toBe('0.097'); // 0.0972125 -> 0.097
  });

  it('is exact where floats are not', () => {
    // 0.1 + 0.2 style: 3 x 0.1 kWh at 0.1/kWh... via decimal stays exact
    const priced = priceSession(tariff('USD', [{ type: 'per_kwh', price: '0.1' }]), {
      energyWh: '300',
      durationSeconds: 0,
    });
    expect(priced.lines[0].amount).toBe('0.03');
  });

  it('prices a zero session at zero', () => {
    expect(priceSession(standard, { energyWh: '0', durationSeconds: 0 }).total).toBe('1.00');
    const noFlat = tariff('EUR', [{ type: 'per_kwh', price: '0.35' }]);
    expect(priceSession(noFlat, { energyWh: '0', durationSeconds: 0 }).total).toBe('0.00');
  });

  it('refuses negative energy and non-integer durations', () => {
    expect(() => priceSession(standard, { energyWh: '-1', durationSeconds: 0 })).toThrow(RangeError);
    expect(() => priceSession(standard, { energyWh: '1', durationSeconds: 1.5 })).toThrow(RangeError);
  });
});

describe('money', () => {
  it('rounds half away from zero at the minor unit', () => {
    expect(roundToMinor('2.345', 'EUR').toFixed()).toBe('2.35');
    expect(roundToMinor('2.344', 'EUR').toFixed()).toBe('2.34');
    expect(formatMoney('5', 'KWD')).toBe('5.000');
    expect(toMinorUnits('12.34', 'EUR')).toBe(1234);
    expect(toMinorUnits('1234', 'JPY')).toBe(1234);
    expect(minorUnitDigits('BHD')).toBe(3);
  });
});

describe('checkTariffInput', () => {
  it('accepts a valid tariff', () => {
    expect(
      checkTariffInput('EUR', [
        { type: 'per_kwh', price: '0.35' },
        { type: 'flat_fee', price: 1.5 },
      ]),
    ).toEqual([]);
  });

  it.each([
    ['EURO', [{ type: 'per_kwh', price: '0.35' }], 'currency'],
    ['eur', [{ type: 'per_kwh', price: '0.35' }], 'currency'],
    ['EUR', [], 'components'],
    ['EUR', [{ type: 'per_parsec', price: '1' }], 'components[0].type'],
    ['EUR', [{ type: 'per_kwh', price: '-0.35' }], 'components[0].price'],
    ['EUR', [{ type: 'per_kwh', price: 'abc' }], 'components[0].price'],
    ['EUR', [{ type: 'per_kwh', price: '0.1234567' }], 'components[0].price'],
    [
      'EUR',
      [
        { type: 'per_kwh', price: '1' },
        { type: 'per_kwh', price: '2' },
      ],
      'components[1].type',
    ],
  ])('rejects currency %p components %j naming %s', (currency, components, param) => {
    const problems = checkTariffInput(currency, components);
    expect(problems.map((p) => p.param)).toContain(param);
  });
});
