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

export const MINOR_SCALE = [1, 10, 100, 1000, 10000];

/**
 * A Decimal already rounded to `digits` places as an integer count of minor units. The double nearest to
 * such a value, scaled up, is within far less than 0.5 of the integer for any amount below 10^12, so
 * Math.round recovers it exactly (and faster than going through a string).
 */
export function minorInt(d: Dec, digits: number): number {
  return Math.round(d.toNumber() * MINOR_SCALE[digits]);
}

const ZERO_MONEY = ['0', '0.0', '0.00', '0.000', '0.0000'];

/** An integer count of minor units as the money string formatMoney gives. */
export function formatMinor(minor: number, digits: number): string {
  if (minor === 0) return ZERO_MONEY[digits];
  if (digits === 0) return String(minor);
  const negative = minor < 0;
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  const cut = text.length - digits;
  return `${negative ? '-' : ''}${text.slice(0, cut)}.${text.slice(cut)}`;
}

/**
 * A money string with exactly `digits` decimals (what formatMoney and formatMinor give) as an integer count
 * of minor units, for summing lines without a Decimal per line; anything else goes through Decimal.
 */
export function parseMinor(text: string, digits: number): number {
  const dot = text.indexOf('.');
  const exact = text.length > 0 && (digits === 0 ? dot === -1 : dot === text.length - digits - 1);
  const n = exact ? Number(digits === 0 ? text : text.slice(0, dot) + text.slice(dot + 1)) : NaN;
  return Number.isSafeInteger(n)
    ? n
    : minorInt(new Dec(text).toDecimalPlaces(digits, Decimal.ROUND_HALF_UP), digits);
}
