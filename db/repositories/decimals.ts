import { Dec } from '../../pricing/money';

/** numeric columns come back as strings padded to the column scale ("0.350000"); answer "0.35". */
export function canonicalDecimal(value: string): string {
  return new Dec(value).toFixed();
}

export function canonicalDecimalOrNull(value: string | null): string | null {
  return value === null ? null : canonicalDecimal(value);
}
