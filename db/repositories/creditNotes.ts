import type { Knex } from 'knex';
import { newId } from '../ids';
import { recordEvent } from './events';
import { canonicalDecimal } from './decimals';

export interface CreditNoteLine {
  description: string;
  vatRate: string | null;
  amount: string;
  vatAmount: string;
  amountInclVat: string;
}

export interface CreditNote {
  id: string;
  organizationId: string;
  number: string;
  exemptionId: string;
  sessionId: string;
  receiptId: string;
  currency: string;
  totalExclVat: string;
  totalVat: string;
  total: string;
  lines: CreditNoteLine[];
  issuedAt: Date;
}

interface CreditNoteRow {
  id: string;
  organization_id: string;
  number: string;
  exemption_id: string;
  session_id: string;
  receipt_id: string;
  currency: string;
  total_excl_vat: string;
  total_vat: string;
  total: string;
  lines: CreditNoteLine[];
  issued_at: Date;
}

const COLUMNS = [
  'id',
  'organization_id',
  'number',
  'exemption_id',
  'session_id',
  'receipt_id',
  'currency',
  'total_excl_vat',
  'total_vat',
  'total',
  'lines',
  'issued_at',
];

const toCreditNote = (r: CreditNoteRow): CreditNote => ({
  id: r.id,
  organizationId: r.organization_id,
  number: r.number,
  exemptionId: r.exemption_id,
  sessionId: r.session_id,
  receiptId: r.receipt_id,
  currency: r.currency,
  totalExclVat: canonicalDecimal(r.total_excl_vat),
  totalVat: canonicalDecimal(r.total_vat),
  total: canonicalDecimal(r.total),
  lines: r.lines,
  issuedAt: r.issued_at,
});

/**
 * The next number of a gapless series per organization and kind. The row lock holds until the caller's
 * transaction ends, so numbers are handed out in commit order and a rolled-back document frees its number.
 */
export async function nextDocumentNumber(
  trx: Knex.Transaction,
  organizationId: string,
  kind: string,
): Promise<number> {
  const row = await trx.raw(
    `INSERT INTO document_numbers (organization_id, kind, last_number) VALUES (?, ?, 1)
     ON CONFLICT (organization_id, kind) DO UPDATE SET last_number = document_numbers.last_number + 1
     RETURNING last_number`,
    [organizationId, kind],
  );
  return row.rows[0].last_number as number;
}

export type NewCreditNote = Omit<CreditNote, 'id' | 'number'> & {
  /** Renders the PDF once the number is known. */
  render(number: string): Promise<Buffer>;
};

/**
 * One credit note per exemption: a retry returns the note already issued, with its number. The note and its
 * outbox event commit together.
 */
export async function issueCreditNote(db: Knex, note: NewCreditNote): Promise<CreditNote> {
  const existing = await findCreditNoteByExemption(db, note.exemptionId);
  if (existing) return existing;
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`credit-note:${note.exemptionId}`]);
    const raced = await findCreditNoteByExemption(trx, note.exemptionId);
    if (raced) return raced;
    const sequence = await nextDocumentNumber(trx, note.organizationId, 'credit_note');
    const number = `CN-${String(sequence).padStart(6, '0')}`;
    const id = newId('cn');
    const [row]: CreditNoteRow[] = await trx('credit_notes')
      .insert({
        id,
        organization_id: note.organizationId,
        number,
        exemption_id: note.exemptionId,
        session_id: note.sessionId,
        receipt_id: note.receiptId,
        currency: note.currency,
        total_excl_vat: note.totalExclVat,
        total_vat: note.totalVat,
        total: note.total,
        lines: JSON.stringify(note.lines),
        pdf: await note.render(number),
        issued_at: note.issuedAt,
      })
      .returning(COLUMNS);
    await recordEvent(trx, {
      organizationId: note.organizationId,
      type: 'credit_note.issued',
      objectType: 'credit_note',
      objectId: id,
      object: {
        id,
        number,
        exemption_id: note.exemptionId,
        session_id: note.sessionId,
        currency: note.currency,
        total_excl_vat: note.totalExclVat,
        total_vat: note.totalVat,
        total: note.total,
        issued_at: row.issued_at.toISOString(),
      },
    });
    return toCreditNote(row);
  });
}

export async function findCreditNoteByExemption(
  db: Knex,
  exemptionId: string,
): Promise<CreditNote | undefined> {
  const row: CreditNoteRow | undefined = await db('credit_notes')
    .where({ exemption_id: exemptionId })
    .first(COLUMNS);
  return row && toCreditNote(row);
}

export async function getCreditNote(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<CreditNote | undefined> {
  const row: CreditNoteRow | undefined = await db('credit_notes')
    .where({ organization_id: organizationId, id })
    .first(COLUMNS);
  return row && toCreditNote(row);
}

export async function creditNotePdf(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<Buffer | undefined> {
  const row = await db('credit_notes').where({ organization_id: organizationId, id }).first('pdf');
  return row?.pdf as Buffer | undefined;
}
