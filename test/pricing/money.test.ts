import { formatMoney, minorUnitDigits, roundToMinor, toMinorUnits } from '../../pricing';
import { checkTariffInput } from '../../pricing/tariff';

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
