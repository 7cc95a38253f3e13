import path from 'node:path';
import Decimal from 'decimal.js';
import PDFDocument from 'pdfkit';
import { formatMoney } from '../pricing/money';
import { BillingDocument, documentTotals } from './billing-document';

// One A4 layout for invoices, credit notes and receipts. The font is embedded (DejaVu Sans covers €, £, ü,
// ß, ø, ł and the rest of the Latin and Cyrillic names on a bill), so the PDF prints the same everywhere.
// Amounts come from the document as rounded decimals and are only formatted here.

const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const REGULAR = path.join(FONT_DIR, 'DejaVuSans.ttf');
const BOLD = path.join(FONT_DIR, 'DejaVuSans-Bold.ttf');

const TITLES: Record<BillingDocument['kind'], string> = {
  invoice: 'Invoice',
  credit_note: 'Credit note',
  receipt: 'Receipt',
};

const MARGIN = 50;
const PAGE_WIDTH = 595.28; // A4 in points
const CONTENT = PAGE_WIDTH - 2 * MARGIN;
const COLUMNS = { description: MARGIN, quantity: 300, vat: 385, net: 430, total: 495 };

function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** The document as PDF bytes; deterministic for the same input (fixed creation date, no random ids). */
export function renderPdf(doc: BillingDocument): Promise<Buffer> {
  const totals = documentTotals(doc);
  const money = (amount: string) => formatMoney(amount, doc.currency);
  const title = `${TITLES[doc.kind]} ${doc.number}`;
  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: { Title: title, Author: doc.seller.name, CreationDate: doc.issuedAt },
    lang: 'en',
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  pdf.registerFont('regular', REGULAR);
  pdf.registerFont('bold', BOLD);

  // Seller top left, document identity top right.
  pdf.font('bold').fontSize(11).text(doc.seller.name, MARGIN, MARGIN, { width: 250 });
  pdf.font('regular').fontSize(9);
  for (const line of doc.seller.address) pdf.text(line, { width: 250 });
  if (doc.seller.vatNumber) pdf.text(`VAT number: ${doc.seller.vatNumber}`, { width: 250 });
  if (doc.seller.email) pdf.text(doc.seller.email, { width: 250 });

  pdf
    .font('bold')
    .fontSize(16)
    .text(TITLES[doc.kind], 320, MARGIN, { width: CONTENT - 270, align: 'right' });
  pdf.font('regular').fontSize(9);
  pdf.text(`Number: ${doc.number}`, { width: CONTENT - 270, align: 'right' });
  pdf.text(`Date: ${localDate(doc.issuedAt, doc.timeZone)}`, { width: CONTENT - 270, align: 'right' });
  for (const ref of doc.references)
    pdf.text(`${ref.label}: ${ref.value}`, { width: CONTENT - 270, align: 'right' });

  // Buyer.
  let y = Math.max(pdf.y, 150) + 10;
  pdf.font('bold').fontSize(10).text('Bill to', MARGIN, y);
  pdf.font('regular').fontSize(9).text(doc.buyer.name);
  for (const line of doc.buyer.address) pdf.text(line);
  if (doc.buyer.vatNumber) pdf.text(`VAT number: ${doc.buyer.vatNumber}`);
  if (doc.buyer.email) pdf.text(doc.buyer.email);

  // Lines.
  y = pdf.y + 20;
  const header = (at: number) => {
    pdf.font('bold').fontSize(9);
    pdf.text('Description', COLUMNS.description, at, { width: 245 });
    pdf.text('Quantity', COLUMNS.quantity, at, { width: 80 });
    pdf.text('VAT', COLUMNS.vat, at, { width: 40, align: 'right' });
    pdf.text(`Net ${doc.currency}`, COLUMNS.net, at, { width: 60, align: 'right' });
    pdf.text(`Total ${doc.currency}`, COLUMNS.total, at, {
      width: CONTENT + MARGIN - COLUMNS.total,
      align: 'right',
    });
    pdf
      .moveTo(MARGIN, at + 13)
      .lineTo(MARGIN + CONTENT, at + 13)
      .stroke();
    return at + 18;
  };
  y = header(y);
  pdf.font('regular');
  for (const line of doc.lines) {
    const height = pdf.heightOfString(line.description, { width: 245 });
    if (y + height > pdf.page.height - MARGIN - 20) {
      pdf.addPage();
      y = header(MARGIN);
      pdf.font('regular');
    }
    pdf.text(line.description, COLUMNS.description, y, { width: 245 });
    pdf.text(line.quantity ?? '', COLUMNS.quantity, y, { width: 80 });
    pdf.text(`${line.vatRate}%`, COLUMNS.vat, y, { width: 40, align: 'right' });
    pdf.text(money(line.amountExclVat), COLUMNS.net, y, { width: 60, align: 'right' });
    const gross = new Decimal(line.amountExclVat).plus(line.vatAmount);
    pdf.text(formatMoney(gross, doc.currency), COLUMNS.total, y, {
      width: CONTENT + MARGIN - COLUMNS.total,
      align: 'right',
    });
    y += Math.max(height, 11) + 4;
  }

  // VAT per rate and totals, right aligned.
  if (y > pdf.page.height - MARGIN - 140) {
    pdf.addPage();
    y = MARGIN;
  }
  pdf
    .moveTo(MARGIN, y)
    .lineTo(MARGIN + CONTENT, y)
    .stroke();
  y += 8;
  const row = (label: string, value: string, bold = false) => {
    pdf.font(bold ? 'bold' : 'regular').fontSize(bold ? 11 : 9);
    pdf.text(label, 300, y, { width: 150 });
    pdf.text(value, 450, y, { width: CONTENT + MARGIN - 450, align: 'right' });
    y += bold ? 16 : 13;
  };
  for (const rate of totals.vatByRate) {
    row(`VAT ${rate.rate}% on ${money(rate.base)}`, money(rate.vat));
  }
  row(`Total excl. VAT`, money(totals.totalExclVat));
  row(`Total VAT`, money(totals.totalVat));
  row(`Total ${doc.currency}`, money(totals.total), true);

  y += 10;
  pdf.font('regular').fontSize(9);
  for (const note of doc.notes) {
    pdf.text(note, MARGIN, y, { width: CONTENT });
    y = pdf.y + 6;
  }
  pdf.end();
  return done;
}
