import { minorUnitDigits } from './currency';
import { Dec, formatMoney, fromMinorUnits, parseMinor, roundToMinor } from './money';

// Amount changes after rating (rule surcharges, discounts and fixed prices, promotional codes) are lines of
// their own. VAT follows the money: a discount is split over the VAT rates of the lines it reduces, in
// proportion to their amounts, and takes the same share of the VAT those lines carry (not the rate applied
// to the rounded share), so taking all of a rate's net amount takes all of its VAT and no total goes below
// zero through rounding.

export interface VatLine {
  vatRate: string | null;
  amount: string;
  vatAmount: string;
}

interface VatGroup {
  vatRate: string | null;
  net: Dec;
  vat: Dec;
}

export interface Adjustment {
  vatRate: string | null;
  amount: string;
  vatAmount: string;
  amountInclVat: string;
}

function vatOf(amount: Dec, vatRate: string | null, currency: string): Dec {
  return vatRate === null ? new Dec(0) : roundToMinor(amount.mul(vatRate).div(100), currency);
}

function adjustment(amount: Dec, vatRate: string | null, currency: string): Adjustment {
  const rounded = roundToMinor(amount, currency);
  const vat = vatOf(rounded, vatRate, currency);
  return {
    vatRate,
    amount: formatMoney(rounded, currency),
    vatAmount: formatMoney(vat, currency),
    amountInclVat: formatMoney(rounded.add(vat), currency),
  };
}

/** Net amount and VAT per VAT rate, largest first (ties by rate) so allocation remainders land predictably. */
function netByVatRate(lines: VatLine[], currency: string): VatGroup[] {
  const digits = minorUnitDigits(currency);
  // Summed as integer minor units: a Decimal per line per adjustment was most of a long session's cost.
  const groups = new Map<string, { vatRate: string | null; net: number; vat: number }>();
  for (const line of lines) {
    const key = line.vatRate ?? '';
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { vatRate: line.vatRate, net: 0, vat: 0 }));
    group.net += parseMinor(line.amount, digits);
    group.vat += parseMinor(line.vatAmount, digits);
  }
  return [...groups.values()]
    .filter((g) => g.net > 0)
    .sort((a, b) => b.net - a.net || (a.vatRate ?? '').localeCompare(b.vatRate ?? ''))
    .map((g) => ({
      vatRate: g.vatRate,
      net: fromMinorUnits(g.net, currency),
      vat: fromMinorUnits(g.vat, currency),
    }));
}

/** `share` (0 < share <= group.net, already in minor units) off a group, with the same share of its VAT. */
function reduction(group: VatGroup, share: Dec, currency: string): Adjustment {
  const vat = share.eq(group.net)
    ? group.vat
    : Dec.max(Dec.min(roundToMinor(group.vat.mul(share).div(group.net), currency), group.vat), 0);
  return {
    vatRate: group.vatRate,
    amount: formatMoney(share.neg(), currency),
    vatAmount: formatMoney(vat.neg(), currency),
    amountInclVat: formatMoney(share.add(vat).neg(), currency),
  };
}

/** A percentage off every VAT rate's net amount. */
export function percentOff(lines: VatLine[], percent: string, currency: string): Adjustment[] {
  return netByVatRate(lines, currency)
    .map((g) => ({ g, share: Dec.min(roundToMinor(g.net.mul(percent).div(100), currency), g.net) }))
    .filter(({ share }) => share.gt(0))
    .map(({ g, share }) => reduction(g, share, currency));
}

/**
 * An amount off, never more than what is left: split over the VAT rates in proportion to their net
 * amounts, each share rounded once and the last rate taking the remainder so the shares add up exactly.
 */
export function amountOff(lines: VatLine[], amount: string, currency: string): Adjustment[] {
  const groups = netByVatRate(lines, currency);
  const total = groups.reduce((sum, g) => sum.add(g.net), new Dec(0));
  const off = Dec.min(roundToMinor(amount, currency), total);
  if (off.lte(0)) return [];
  let left = off;
  const shares = groups.map((g, i) => {
    const proportional = i === groups.length - 1 ? left : roundToMinor(off.mul(g.net).div(total), currency);
    const share = Dec.min(proportional, left, g.net);
    left = left.sub(share);
    return { g, share };
  });
  // Rounding can leave a minor unit or two that the last rate has no room for: the others take it.
  for (const s of shares) {
    const extra = Dec.min(left, s.g.net.sub(s.share));
    s.share = s.share.add(extra);
    left = left.sub(extra);
  }
  return shares.filter(({ share }) => share.gt(0)).map(({ g, share }) => reduction(g, share, currency));
}

/** An amount on top, at the VAT rate of the session's energy (else its first rated line). */
export function amountOn(
  lines: (VatLine & { component: string })[],
  amount: string,
  currency: string,
): Adjustment {
  const rate = (lines.find((l) => l.component === 'energy') ?? lines[0])?.vatRate ?? null;
  return adjustment(new Dec(amount), rate, currency);
}

export function netTotal(lines: VatLine[]): Dec {
  return lines.reduce((sum, l) => sum.add(l.amount), new Dec(0));
}
