import { Dec, formatMoney, roundToMinor } from './money';

// Amount changes after rating (rule surcharges, discounts and fixed prices, promotional codes) are lines of
// their own. VAT follows the money: a discount is split over the VAT rates of the lines it reduces, in
// proportion to their amounts, so the VAT on the receipt stays what each rate's net amount carries.

export interface VatLine {
  vatRate: string | null;
  amount: string;
}

export interface Adjustment {
  vatRate: string | null;
  amount: string;
  vatAmount: string;
  amountInclVat: string;
}

export function vatOf(amount: Dec, vatRate: string | null, currency: string): Dec {
  return vatRate === null ? new Dec(0) : roundToMinor(amount.mul(vatRate).div(100), currency);
}

export function adjustment(amount: Dec, vatRate: string | null, currency: string): Adjustment {
  const rounded = roundToMinor(amount, currency);
  const vat = vatOf(rounded, vatRate, currency);
  return {
    vatRate,
    amount: formatMoney(rounded, currency),
    vatAmount: formatMoney(vat, currency),
    amountInclVat: formatMoney(rounded.add(vat), currency),
  };
}

/** Net amount per VAT rate, largest first (ties by rate) so allocation remainders land predictably. */
export function netByVatRate(lines: VatLine[]): { vatRate: string | null; net: Dec }[] {
  const groups = new Map<string, { vatRate: string | null; net: Dec }>();
  for (const line of lines) {
    const key = line.vatRate ?? '';
    const group = groups.get(key) ?? { vatRate: line.vatRate, net: new Dec(0) };
    group.net = group.net.add(line.amount);
    groups.set(key, group);
  }
  return [...groups.values()]
    .filter((g) => g.net.gt(0))
    .sort((a, b) => b.net.cmp(a.net) || (a.vatRate ?? '').localeCompare(b.vatRate ?? ''));
}

/** A percentage off every VAT rate's net amount. */
export function percentOff(lines: VatLine[], percent: string, currency: string): Adjustment[] {
  return netByVatRate(lines)
    .map((g) => adjustment(g.net.mul(percent).div(100).neg(), g.vatRate, currency))
    .filter((a) => !new Dec(a.amount).isZero());
}

/**
 * An amount off, never more than what is left: split over the VAT rates in proportion to their net
 * amounts, each share rounded once and the last rate taking the remainder so the shares add up exactly.
 */
export function amountOff(lines: VatLine[], amount: string, currency: string): Adjustment[] {
  const groups = netByVatRate(lines);
  const total = groups.reduce((sum, g) => sum.add(g.net), new Dec(0));
  const off = Dec.min(roundToMinor(amount, currency), total);
  if (off.lte(0)) return [];
  let left = off;
  return groups
    .map((g, i) => {
      const share =
        i === groups.length - 1 ? left : Dec.min(roundToMinor(off.mul(g.net).div(total), currency), left);
      left = left.sub(share);
      return adjustment(share.neg(), g.vatRate, currency);
    })
    .filter((a) => !new Dec(a.amount).isZero());
}

/** An amount on top, at the VAT rate of the session's energy (else its first rated line). */
export function amountOn(
  lines: (VatLine & { isEnergy: boolean })[],
  amount: string,
  currency: string,
): Adjustment {
  const rate = (lines.find((l) => l.isEnergy) ?? lines[0])?.vatRate ?? null;
  return adjustment(new Dec(amount), rate, currency);
}

export function netTotal(lines: VatLine[]): Dec {
  return lines.reduce((sum, l) => sum.add(l.amount), new Dec(0));
}
