// Line amounts in integer arithmetic. A price with at most 6 decimals times an integer quantity is an exact
// fraction; BigInt keeps it exact and rounds it once, half away from zero like roundToMinor, at a fraction
// of a Decimal's cost. Prices with more decimals (a rule's multiplier can make them) return null and the
// caller uses Decimal.

const POW10 = [1n, 10n, 100n, 1000n, 10000n, 100000n, 1000000n];
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** `text` × 10^decimals as a BigInt, or null when it has more decimals (or is not a plain decimal). */
export function scaledInteger(text: string, decimals: number): bigint | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const fraction = m[3] ?? '';
  if (fraction.length > decimals) return null;
  const value = BigInt(m[2] + fraction.padEnd(decimals, '0'));
  return m[1] === '-' ? -value : value;
}

/** n / d rounded half away from zero (d > 0). */
export function roundDiv(n: bigint, d: bigint): bigint {
  const q = ((n < 0n ? -n : n) * 2n + d) / (2n * d);
  return n < 0n ? -q : q;
}

/** Quantity divisors per price unit, for a price scaled by 10^6: per session, per kWh (mWh), per hour (ms). */
export const PER_SESSION = 1_000_000n;
export const PER_KWH_IN_MWH = 1_000_000_000_000n;
export const PER_HOUR_IN_MS = 3_600_000_000_000n;

/** priceMicro × quantity / divisor in minor units of a currency with `digits` decimals, rounded once. */
export function minorAmount(priceMicro: bigint, quantity: number, divisor: bigint, digits: number): number {
  return Number(roundDiv(priceMicro * BigInt(quantity) * POW10[digits], divisor));
}

/** VAT on an amount of minor units, the rate in percent scaled by 10^4, rounded once. */
export function minorVat(excl: number, vatE4: bigint): number {
  return Number(roundDiv(BigInt(excl) * vatE4, 1_000_000n));
}
