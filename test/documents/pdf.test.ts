import { BillingDocument, documentTotals } from '../../documents/billing-document';
import { renderPdf } from '../../documents/pdf';
import { pdfText as text } from '../support/pdf-text';

const base: BillingDocument = {
  kind: 'invoice',
  number: 'ACME-2026-000042',
  issuedAt: new Date('2026-11-30T23:30:00Z'),
  timeZone: 'Europe/Berlin',
  currency: 'EUR',
  seller: {
    name: 'Stromwerk Laden GmbH',
    address: ['Königsallee 1', '40212 Düsseldorf', 'DE'],
    vatNumber: 'DE811111111',
  },
  buyer: {
    name: 'Acme Łódź Sp. z o.o.',
    address: ['ul. Piotrkowska 1', '90-001 Łódź', 'PL'],
    vatNumber: 'PL1234567890',
    email: 'ap@acme.example',
  },
  references: [{ label: 'Period', value: '2026-11-01 to 2026-11-30' }],
  lines: [
    {
      description: 'Session ses_1 at Garage Süd, 12.345 kWh',
      quantity: '12.345 kWh',
      amountExclVat: '4.81',
      vatRate: '19',
      vatAmount: '0.91',
    },
    {
      description: 'Session ses_2, idle fee',
      quantity: '25 min',
      amountExclVat: '1.00',
      vatRate: '19',
      vatAmount: '0.19',
    },
    { description: 'Parking (reduced rate)', amountExclVat: '2.00', vatRate: '7', vatAmount: '0.14' },
  ],
  notes: ['Payable within 14 days by bank transfer.'],
};

describe('billing document PDF', () => {
  it('adds up its lines: VAT per rate and totals', () => {
    expect(documentTotals(base)).toEqual({
      vatByRate: [
        { rate: '7', base: '2', vat: '0.14' },
        { rate: '19', base: '5.81', vat: '1.1' },
      ],
      totalExclVat: '7.81',
      totalVat: '1.24',
      total: '9.05',
    });
  });

  it('prints seller, buyer, number, date, lines, VAT per rate and totals, in an embedded font', async () => {
    const pdf = await renderPdf(base);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const raw = pdf.toString('latin1');
    expect(raw).toContain('/FontFile2');
    expect(raw).not.toMatch(/\/BaseFont \/Helvetica/);
    const t = await text(pdf);
    for (const expected of [
      'Invoice',
      'Number: ACME-2026-000042',
      'Stromwerk Laden GmbH',
      'VAT number: DE811111111',
      'Acme Łódź Sp. z o.o.',
      'Date: 2026-12-01',
      'Period: 2026-11-01 to 2026-11-30',
      'Session ses_1 at Garage Süd, 12.345 kWh',
      'VAT 7% on 2.00',
      'VAT 19% on 5.81',
      'Total excl. VAT',
      'Total EUR',
      'Payable within 14 days by bank transfer.',
    ]) {
      expect(t).toContain(expected);
    }
    expect(t).toMatch(/Total EUR\s*9\.05/);
    expect(t).toMatch(/Total VAT\s*1\.24/);
    expect(t).toMatch(/VAT 19% on 5\.81\s*1\.10/);
  });

  it('runs onto further pages and repeats the header; a credit note says so', async () => {
    const lines = Array.from({ length: 120 }, (_, n) => ({
      description: `Session ses_${n}`,
      amountExclVat: '1.00',
      vatRate: '19',
      vatAmount: '0.19',
    }));
    const pdf = await renderPdf({ ...base, kind: 'credit_note', number: 'CN-7', lines });
    const t = await text(pdf);
    expect(t).toContain('Credit note');
    expect(t).toContain('Number: CN-7');
    expect(t).toContain('Session ses_119');
    expect(t.match(/Description/g)!.length).toBeGreaterThan(1);
    expect(t).toMatch(/Total EUR\s*142\.80/);
  });
});
