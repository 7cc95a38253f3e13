import Decimal from 'decimal.js';

// What an invoice, a credit note and a receipt have in common, as a person reads it on paper: who sells to
// whom, a number, dates, lines with their VAT, VAT per rate, and totals. Amounts are decimal strings already
// rounded by the pricing or invoicing code; this module only adds them up, so the document shows the very
// figures stored in the database.

export type DocumentKind = 'invoice' | 'credit_note' | 'receipt';

export interface Party {
  name: string;
  /** Address lines, in print order. */
  address: string[];
  vatNumber?: string | null;
  email?: string | null;
}

export interface DocumentLine {
  description: string;
  /** Free text such as "12.345 kWh" or "1 session". */
  quantity?: string;
  /** Decimal strings in the document's currency. */
  amountExclVat: string;
  /** Percent, e.g. "19". */
  vatRate: string;
  vatAmount: string;
}

export interface BillingDocument {
  kind: DocumentKind;
  number: string;
  issuedAt: Date;
  /** Shown in the seller's time zone. */
  timeZone: string;
  currency: string;
  seller: Party;
  buyer: Party;
  /** E.g. the billing period, or the invoice a credit note corrects. */
  references: { label: string; value: string }[];
  lines: DocumentLine[];
  /** Paragraphs under the totals: payment terms, the exemption's reason. */
  notes: string[];
}

export interface VatSummaryRow {
  rate: string;
  base: string;
  vat: string;
}

export interface DocumentTotals {
  vatByRate: VatSummaryRow[];
  totalExclVat: string;
  totalVat: string;
  total: string;
}

/** Sums of the lines as given: the totals of a document always add up to its lines, to the minor unit. */
export function documentTotals(doc: Pick<BillingDocument, 'lines'>): DocumentTotals {
  const byRate = new Map<string, { base: Decimal; vat: Decimal }>();
  let base = new Decimal(0);
  let vat = new Decimal(0);
  for (const line of doc.lines) {
    const rate = new Decimal(line.vatRate).toString();
    const row = byRate.get(rate) ?? { base: new Decimal(0), vat: new Decimal(0) };
    row.base = row.base.plus(line.amountExclVat);
    row.vat = row.vat.plus(line.vatAmount);
    byRate.set(rate, row);
    base = base.plus(line.amountExclVat);
    vat = vat.plus(line.vatAmount);
  }
  const vatByRate = [...byRate.entries()]
    .sort(([a], [b]) => new Decimal(a).cmp(b))
    .map(([rate, row]) => ({ rate, base: row.base.toString(), vat: row.vat.toString() }));
  return {
    vatByRate,
    totalExclVat: base.toString(),
    totalVat: vat.toString(),
    total: base.plus(vat).toString(),
  };
}
