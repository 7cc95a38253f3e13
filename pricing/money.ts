import Decimal from 'decimal.js';
import { minorUnitDigits } from './currency';

// A private Decimal constructor so no other module's configuration can change our precision or rounding.
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export type Dec = Decimal;

/**
 * THE rounding rule of the platform: an amount is rounded to the currency's minor unit, half away from
 * zero (commercial rounding, what drivers and accountants expect on a receipt). Every line is rounded
 * here once and totals are sums of rounded lines, so a receipt always adds up.
 */
export function roundToMinor(amount: Decimal.Value, currency: string): Decimal {
  return new Dec(amount).toDecimalPlaces(minorUnitDigits(currency), Decimal.ROUND_HALF_UP);
}

/** Decimal string with exactly the currency's minor-unit digits, the form money takes in JSON. */
export function formatMoney(amount: Decimal.Value, currency: string): string {
  return roundToMinor(amount, currency).toFixed(minorUnitDigits(currency));
}

/** Integer count of minor units, as payment providers take amounts. */
export function toMinorUnits(amount: Decimal.Value, currency: string): number {
  const minor = roundToMinor(amount, currency).mul(new Dec(10).pow(minorUnitDigits(currency)));
  return minor.toNumber();
}

export function fromMinorUnits(minor: number, currency: string): Decimal {
  return new Dec(minor).div(new Dec(10).pow(minorUnitDigits(currency)));
}
