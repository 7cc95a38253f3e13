import fc from 'fast-check';
import { minorUnitDigits } from '../../pricing/currency';
import { Dec } from '../../pricing/money';
import { splitByPercent } from '../../pricing/revenue-split';

// The remainder rule of revenue sharing: parts in whole minor units that add up to the whole, each within one
// minor unit of its exact quota, leftovers to the largest dropped fractions and ties to the party listed first.

const strings = (parts: Dec[]) => parts.map((p) => p.toFixed());

describe('splitByPercent', () => {
  it('splits 10.00 three ways so the parts add up, the leftover cent to the largest fraction', () => {
    expect(strings(splitByPercent('10.00', ['33.3333', '33.3333', '33.3334'], 'EUR'))).toEqual([
      '3.33',
      '3.33',
      '3.34',
    ]);
    expect(strings(splitByPercent('6.01', ['33.3333', '33.3333', '33.3334'], 'EUR'))).toEqual([
      '2',
      '2',
      '2.01',
    ]);
  });

  it('gives a leftover unit on equal fractions to the party listed first', () => {
    expect(strings(splitByPercent('0.01', ['50', '50'], 'EUR'))).toEqual(['0.01', '0']);
    expect(strings(splitByPercent('0.05', ['25', '25', '25', '25'], 'EUR'))).toEqual([
      '0.02',
      '0.01',
      '0.01',
      '0.01',
    ]);
    expect(strings(splitByPercent('0.05', ['25', '25', '25', '25'], 'EUR').reverse())).toEqual([
      '0.01',
      '0.01',
      '0.01',
      '0.02',
    ]);
  });

  it('takes a negative total (a credit) back in exactly the parts it was shared in', () => {
    expect(strings(splitByPercent('-16.50', ['70', '30'], 'EUR'))).toEqual(['-11.55', '-4.95']);
    expect(strings(splitByPercent('-0.01', ['50', '50'], 'EUR'))).toEqual(['-0.01', '0']);
  });

  it('uses the currency minor unit (JPY none, KWD three decimals)', () => {
    expect(strings(splitByPercent('1000', ['70', '30'], 'JPY'))).toEqual(['700', '300']);
    expect(strings(splitByPercent('1001', ['50', '50'], 'JPY'))).toEqual(['501', '500']);
    expect(strings(splitByPercent('1.001', ['50', '50'], 'KWD'))).toEqual(['0.501', '0.5']);
  });

  it('refuses percentages that do not add up to 100, or negative ones', () => {
    expect(() => splitByPercent('10', ['70', '40'], 'EUR')).toThrow(RangeError);
    expect(() => splitByPercent('10', ['110', '-10'], 'EUR')).toThrow(RangeError);
    expect(() => splitByPercent('10', [], 'EUR')).toThrow(RangeError);
  });

  // Percentages with 4 decimals (numeric(7,4)) adding up to exactly 100, cut from 1,000,000 basis points.
  const percentsArb = fc
    .array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 0, maxLength: 7 })
    .map((cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), 1_000_000];
      return points.slice(1).map((p, i) => new Dec(p - points[i]).div(10_000).toFixed());
    });
  const caseArb = fc.record({
    currency: fc.constantFrom('EUR', 'JPY', 'KWD'),
    units: fc.integer({ min: -10_000_000_000, max: 10_000_000_000 }),
    percents: percentsArb,
  });

  it.each([1, 42, 20261123, 987654321, 31337])(
    'adds up exactly and stays within a minor unit (seed %i)',
    (seed) => {
      fc.assert(
        fc.property(caseArb, ({ currency, units, percents }) => {
          const unit = new Dec(10).pow(-minorUnitDigits(currency));
          const total = unit.mul(units);
          const parts = splitByPercent(total, percents, currency);
          expect(parts).toHaveLength(percents.length);
          // The parts add up to the whole, to the minor unit.
          expect(parts.reduce((s, p) => s.add(p), new Dec(0)).eq(total)).toBe(true);
          parts.forEach((part, i) => {
            // Whole minor units, the total's sign, and less than one unit from the exact quota.
            expect(part.div(unit).isInteger()).toBe(true);
            expect(part.isZero() || part.isNegative() === total.isNegative()).toBe(true);
            expect(part.sub(total.mul(percents[i]).div(100)).abs().lt(unit)).toBe(true);
          });
          // A credit of the same amount takes back exactly the same parts.
          expect(strings(splitByPercent(total.neg(), percents, currency))).toEqual(
            strings(parts.map((p) => (p.isZero() ? p : p.neg()))),
          );
        }),
        { seed, numRuns: 300 },
      );
    },
  );
});
