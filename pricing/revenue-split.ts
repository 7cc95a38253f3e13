import type Decimal from 'decimal.js';
import { minorUnitDigits } from './currency';
import { Dec, roundToMinor } from './money';

/**
 * THE remainder rule of revenue sharing: splits `total` by percentages that add up to exactly 100, in whole
 * minor units of the currency, so that the parts add up to the total exactly (largest remainder):
 *
 * 1. each party's exact quota is total × percent / 100, in minor units, and it first gets the quota rounded
 *    down (toward zero);
 * 2. the minor units left over (fewer than the number of parties) go one each to the parties with the largest
 *    dropped fractions; equal fractions go to the party listed first.
 *
 * A negative total (a credit taken back) is split as its absolute value and negated, so a refund takes back
 * exactly the parts its amount was shared in. The total is rounded to the minor unit first; a sum of receipt
 * or credit-note amounts is already a whole number of minor units.
 */
export function splitByPercent(
  total: Decimal.Value,
  percents: readonly Decimal.Value[],
  currency: string,
): Dec[] {
  if (percents.length === 0) throw new RangeError('splitByPercent: no parties to split between');
  const shares = percents.map((p) => new Dec(p));
  if (shares.some((p) => !p.isFinite() || p.isNegative())) {
    throw new RangeError(`splitByPercent: percentages must be >= 0, got ${percents.join(', ')}`);
  }
  const sum = shares.reduce((s, p) => s.add(p), new Dec(0));
  if (!sum.eq(100)) throw new RangeError(`splitByPercent: percentages add up to ${sum}, not 100`);

  const scale = new Dec(10).pow(minorUnitDigits(currency));
  const whole = roundToMinor(total, currency).mul(scale);
  const negative = whole.isNegative();
  const units = whole.abs();

  const quotas = shares.map((p) => units.mul(p).div(100));
  const parts = quotas.map((q) => q.floor());
  let left = units.sub(parts.reduce((s, p) => s.add(p), new Dec(0))).toNumber();
  const order = quotas
    .map((q, i) => ({ i, fraction: q.sub(parts[i]) }))
    // Array.prototype.sort is stable, so equal fractions keep the listed order.
    .sort((a, b) => b.fraction.cmp(a.fraction));
  for (const { i } of order) {
    if (left === 0) break;
    parts[i] = parts[i].add(1);
    left -= 1;
  }
  return parts.map((p) => {
    const amount = p.div(scale);
    return negative && !amount.isZero() ? amount.neg() : amount;
  });
}
