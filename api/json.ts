import type { Response } from 'express';
import { isCurrency } from '../pricing/currency';
import { formatMoney } from '../pricing/money';
import { canonicalDecimal } from '../db/repositories/decimals';

export const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

/** Money in JSON: a decimal string with the currency's minor-unit digits ("9.80", "1200" for JPY). */
export function money(value: string | null, currency: string | null): string | null {
  if (value === null) return null;
  return currency !== null && isCurrency(currency) ? formatMoney(value, currency) : canonicalDecimal(value);
}

export { canonicalDecimalOrNull as decimal } from '../db/repositories/decimals';

/** A document (invoice, credit note, receipt) as a download named for its number. */
export function sendPdf(res: Response, number: string, pdf: Buffer): void {
  res
    .status(200)
    .set('Content-Type', 'application/pdf')
    .set('Content-Disposition', `attachment; filename="${number}.pdf"`)
    .send(pdf);
}
