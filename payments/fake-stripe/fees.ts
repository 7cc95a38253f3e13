// What the fake charges for processing and disputes. Reconciliation compares Stripe's fees and nets with our
// own figures, so they must be exact integers: the percentage is applied in decimal arithmetic and rounded
// half-up once, never through a float.
import Decimal from 'decimal.js';

export interface FeeSchedule {
  /** Percent of the captured amount, e.g. 1.4 or '1.4'. */
  percent: number | string;
  /** Added to every captured charge, in minor units. */
  fixedMinor: number;
  /** Taken when a dispute opens, in minor units. */
  disputeMinor: number;
}

// Stripe's standard European card pricing (1.4 % + 0.25) and its dispute fee (15.00).
export const DEFAULT_FEES: FeeSchedule = { percent: '1.4', fixedMinor: 25, disputeMinor: 1500 };

export function feeSchedule(overrides: Partial<FeeSchedule> = {}): FeeSchedule {
  const fees = { ...DEFAULT_FEES, ...overrides };
  let percent: Decimal;
  try {
    percent = new Decimal(fees.percent);
  } catch {
    throw new RangeError(`fees.percent must be a decimal number, got ${String(fees.percent)}`);
  }
  if (!percent.isFinite() || percent.isNegative() || percent.greaterThan(100)) {
    throw new RangeError(`fees.percent must be between 0 and 100, got ${String(fees.percent)}`);
  }
  for (const field of ['fixedMinor', 'disputeMinor'] as const) {
    if (!Number.isSafeInteger(fees[field]) || fees[field] < 0) {
      throw new RangeError(`fees.${field} must be a non-negative integer, got ${String(fees[field])}`);
    }
  }
  return fees;
}

/** The processing fee on a captured amount: percent + fixed, rounded half-up to a minor unit. */
export function processingFee(amountMinor: number, fees: FeeSchedule): number {
  return new Decimal(amountMinor)
    .times(fees.percent)
    .dividedBy(100)
    .plus(fees.fixedMinor)
    .toDecimalPlaces(0, Decimal.ROUND_HALF_UP)
    .toNumber();
}
