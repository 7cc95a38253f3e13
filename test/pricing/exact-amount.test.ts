import fc from 'fast-check';
import {
  minorAmount,
  minorVat,
  PER_HOUR_IN_MS,
  PER_KWH_IN_MWH,
  PER_SESSION,
  roundDiv,
  scaledInteger,
} from '../../pricing/exact-amount';
import { Dec, roundToMinor } from '../../pricing/money';

// The integer path of the rating engine must give exactly what Decimal and roundToMinor give.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

const CURRENCY = { 0: 'JPY', 2: 'EUR', 3: 'KWD' } as const;
const digitsArb = fc.constantFrom(0, 2, 3) as fc.Arbitrary<0 | 2 | 3>;
const priceArb = fc.integer({ min: 0, max: 2_000_000_000 }).map((n) => new Dec(n).div(1_000_000).toFixed());

describe('exact amounts', () => {
  it('scales plain decimals and refuses what does not fit', () => {
    expect(scaledInteger('0.35', 6)).toBe(350_000n);
    expect(scaledInteger('12', 6)).toBe(12_000_000n);
    expect(scaledInteger('-1.5', 4)).toBe(-15_000n);
    expect(scaledInteger('0.0000001', 6)).toBeNull();
    expect(scaledInteger('1e-7', 6)).toBeNull();
    expect(scaledInteger('', 6)).toBeNull();
  });

  it('rounds half away from zero', () => {
    expect([roundDiv(5n, 10n), roundDiv(4n, 10n), roundDiv(-5n, 10n), roundDiv(-15n, 10n)]).toEqual([
      1n,
      0n,
      -1n,
      -2n,
    ]);
  });

  it.each([
    ['per kWh on mWh', PER_KWH_IN_MWH, (p: string, q: number) => new Dec(p).mul(q).div(1e6)],
    ['per hour on ms', PER_HOUR_IN_MS, (p: string, q: number) => new Dec(p).mul(q).div(3_600_000)],
    ['per session', PER_SESSION, (p: string) => new Dec(p)],
  ])('%s equals Decimal rounded once', (_, divisor, exact) => {
    fc.assert(
      fc.property(priceArb, fc.integer({ min: 0, max: 2 ** 40 }), digitsArb, (price, q, digits) => {
        const quantity = divisor === PER_SESSION ? 1 : q;
        const expected = roundToMinor(exact(price, quantity), CURRENCY[digits]).mul(10 ** digits);
        expect(minorAmount(scaledInteger(price, 6)!, quantity, divisor, digits)).toBe(
          expected.toNumber() + 0,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('VAT equals Decimal rounded once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e9, max: 1e9 }),
        fc.integer({ min: 0, max: 300_000 }).map((n) => new Dec(n).div(10_000).toFixed()),
        digitsArb,
        (excl, rate, digits) => {
          const amount = new Dec(excl).div(10 ** digits);
          const expected = roundToMinor(amount.mul(rate).div(100), CURRENCY[digits]).mul(10 ** digits);
          expect(minorVat(excl, scaledInteger(rate, 4)!)).toBe(expected.toNumber() + 0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
