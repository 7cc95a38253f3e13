import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { Dec } from '../../pricing/money';
import { BILLING_PERIOD, BILLING_STATUS } from '../../workflows/search-attributes';
import { tableCounts } from '../api/helpers';
import { useBillingStack } from '../support/billing-stack';
import { pdfText } from '../support/pdf-text';
import { periodOf } from '../../pricing/calendar-months';

// Monthly invoice closing on the real Temporal dev server and PostgreSQL, driven through the REST API, for
// an organization whose drivers have no card: everything they charge is due on the invoice.

const stack = useBillingStack('invoices', 'integration-invoices', { paymentMethodId: null });
const { as } = stack;
const org = () => stack.fx.organizationId;

async function close(period: string) {
  const res = await as('billing')('POST', `/organizations/${org()}/invoices/close`, { period });
  expect(res.status).toBe(202);
  expect(res.body.workflow_id).toBe(`invoice-close:${org()}:${period}`);
  return stack.env.client.workflow.getHandle(res.body.workflow_id).result();
}

/** Every session line of the invoice, page by page. */
async function lines(invoiceId: string) {
  const all = [];
  let cursor = '';
  for (;;) {
    const page = (await as('owner')('GET', `/invoices/${invoiceId}/lines?limit=1${cursor}`)).body;
    all.push(...page.data);
    if (!page.has_more) return all;
    cursor = `&starting_after=${page.next_cursor}`;
  }
}

const sum = (xs: string[]) => xs.reduce((s, x) => s.add(x), new Dec(0));

beforeAll(async () => {
  const res = await as('billing')('PATCH', `/organizations/${org()}`, {
    billing_contact: {
      email: 'ap@org.example',
      name: 'Fleet Org GmbH',
      address: { line1: 'Hauptstr. 1', postal_code: '10115', city: 'Berlin', country: 'DE' },
      vat_number: 'DE123456789',
    },
  });
  expect(res.status).toBe(200);
  expect((await as('owner')('PATCH', `/organizations/${org()}`, { time_zone: 'Europe/Berlin' })).status).toBe(
    200,
  );
});

describe('invoice-close workflow', () => {
  it('closes a month once: its sessions in the local calendar, an exemption credit, late sessions on the next invoice', async () => {
    const a = await stack.billedSession({ stoppedAt: new Date('2026-08-10T10:00:00Z') });
    const b = await stack.billedSession({ stoppedAt: new Date('2026-08-31T21:30:00Z'), wh: 20_000 }); // 23:30 in Berlin
    const c = await stack.billedSession({ stoppedAt: new Date('2026-08-31T22:30:00Z') }); // 00:30 on 1 September

    // A waived in full before the close: its credit note is applied on the invoice that bills it.
    const exm = await as('admin')('POST', `/sessions/${a.sessionId}/exemptions`, {
      reason: 'Faulty charger',
    });
    await as('billing')('POST', `/exemptions/${exm.body.id}/approve`, {});
    await stack.env.client.workflow.getHandle(`exemption:${exm.body.id}`).result();
    const exemption = (await as('owner')('GET', `/exemptions/${exm.body.id}`)).body;
    expect(exemption).toMatchObject({
      reversal: 'invoice_credit',
      credit_note: { total: String(Number(a.total)) },
    });

    const draft = (await as('owner')('GET', `/organizations/${org()}/invoices?period=2026-08`)).body.data;
    expect(draft).toEqual([]);

    const closed = await close('2026-08');
    expect(closed).toMatchObject({ status: 'issued', number: 'INV-000001' });
    const august = (await as('owner')('GET', `/invoices/${closed.invoiceId}`)).body;
    expect(august).toMatchObject({
      status: 'issued',
      period: '2026-08',
      period_start: '2026-08-01',
      period_end: '2026-08-31',
    });
    expect(august.session_count).toBe(2);
    const sessionLines = await lines(august.id);
    expect(new Set(sessionLines.map((l: { session_id: string }) => l.session_id))).toEqual(
      new Set([a.sessionId, b.sessionId]),
    );
    // The session lines add up to the receipts, to the minor unit; the credit takes A off again.
    expect(
      sum(sessionLines.map((l: { amount_incl_vat: string }) => l.amount_incl_vat)).eq(
        sum([a.total, b.total]),
      ),
    ).toBe(true);
    const credits = august.credits;
    expect(
      sum(credits.map((l: { amount_incl_vat: string }) => l.amount_incl_vat))
        .neg()
        .eq(a.total),
    ).toBe(true);
    expect(new Dec(august.total_amount).eq(b.total)).toBe(true);
    expect(new Dec(august.total_excl_vat).add(august.total_vat).eq(august.total_amount)).toBe(true);
    expect(
      sum(august.vat_breakdown.map((r: { amount_incl_vat: string }) => r.amount_incl_vat)).eq(
        august.total_amount,
      ),
    ).toBe(true);

    const pdf = await stack.download(`/invoices/${august.id}/download`);
    expect(pdf.status).toBe(200);
    const text = await pdfText(Buffer.from(await pdf.arrayBuffer()));
    expect(text).toContain('Number: INV-000001');
    expect(text).toContain('Fleet Org GmbH');
    expect(text).toContain('Period: 2026-08-01 to 2026-08-31');
    expect(text).toMatch(new RegExp(`Total EUR\\s*${new Dec(b.total).toFixed(2)}`));
    const mail = stack.smtp.messages.filter((m) => m.subject?.startsWith('Invoice INV-000001'));
    expect(mail).toHaveLength(1);
    expect([mail[0].to].flat()[0]!.text).toContain('ap@org.example');
    expect(mail[0].attachments.map((x) => x.filename)).toEqual(['INV-000001.pdf']);

    // Closing again changes nothing.
    const again = await close('2026-08');
    expect(again.invoiceId).toBe(august.id);
    expect(await lines(august.id)).toEqual(sessionLines);
    expect((await as('owner')('GET', `/invoices/${august.id}`)).body.credits).toEqual(credits);
    expect(stack.smtp.messages.filter((m) => m.subject?.startsWith('Invoice INV-000001'))).toHaveLength(1);

    // An August session from a charge point that was offline arrives after the close: September bills it.
    const late = await stack.billedSession({ stoppedAt: new Date('2026-08-20T12:00:00Z') });
    const september = await close('2026-09');
    expect(september.number).toBe('INV-000002');
    const sep = (await as('owner')('GET', `/invoices/${september.invoiceId}`)).body;
    expect(new Set((await lines(sep.id)).map((l: { session_id: string }) => l.session_id))).toEqual(
      new Set([c.sessionId, late.sessionId]),
    );

    // Void releases what it billed; the next closing bills it again under a new number.
    const voided = await as('billing')('POST', `/invoices/${sep.id}/void`, {
      reason: 'Wrong billing address',
    });
    expect(voided.body).toMatchObject({ status: 'void', void_reason: 'Wrong billing address' });
    const reissued = await close('2026-09');
    expect(reissued.number).toBe('INV-000003');
    const sep2 = (await as('owner')('GET', `/invoices/${reissued.invoiceId}`)).body;
    expect(sep2.total_amount).toBe(sep.total_amount);
    const list = (await as('owner')('GET', `/organizations/${org()}/invoices?period=2026-09`)).body.data;
    expect(list.map((i: { status: string }) => i.status).sort()).toEqual(['issued', 'void']);

    // Paid by bank transfer.
    const paid = await as('billing')('POST', `/invoices/${august.id}/mark-paid`, {
      reference: 'SEPA-2026-0917',
    });
    expect(paid.body).toMatchObject({
      status: 'paid',
      payment_method: 'bank_transfer',
      payment_reference: 'SEPA-2026-0917',
    });
    expect((await as('billing')('POST', `/invoices/${august.id}/mark-paid`, {})).status).toBe(409);

    const handle = stack.env.client.workflow.getHandle(`invoice-close:${org()}:2026-08`);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(BILLING_STATUS)).toBe('issued');
    expect(description.typedSearchAttributes.get(BILLING_PERIOD)).toBe('2026-08');
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
    if (process.env.RECORD_HISTORY) {
      const file = path.join(__dirname, '../replay/histories/invoice-close-v1.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
  });

  it('shows the open month as a draft with a running total', async () => {
    const now = new Date();
    const s = await stack.billedSession({ stoppedAt: new Date(now.getTime() - 60_000) });
    const period = periodOf('Europe/Berlin', now);
    const list = (await as('owner')('GET', `/organizations/${org()}/invoices?status=draft`)).body.data;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ status: 'draft', period, number: null });
    expect(new Dec(list[0].total_amount).gte(s.total)).toBe(true);
    expect((await stack.download(`/invoices/${list[0].id}/download`)).status).toBe(409);

    // Closed early: issued at once, with what the draft showed; later sessions go on the next invoice.
    const res = await as('billing')('POST', `/organizations/${org()}/invoices/close`, { period, now: true });
    expect(res.body).toMatchObject({ now: true });
    const early = await stack.env.client.workflow.getHandle(res.body.workflow_id).result();
    expect(early.invoiceId).toBe(list[0].id);
    const issued = (await as('owner')('GET', `/invoices/${early.invoiceId}`)).body;
    expect(issued).toMatchObject({ status: 'issued', total_amount: list[0].total_amount });
  });

  it("prints a session's receipt as a PDF that adds up", async () => {
    const s = await stack.billedSession({ stoppedAt: new Date(Date.now() - 60_000) });
    const pdf = await stack.download(`/sessions/${s.sessionId}/receipt/download`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const text = await pdfText(Buffer.from(await pdf.arrayBuffer()));
    expect(text).toContain('Receipt');
    expect(text).toContain(`Session: ${s.sessionId}`);
    expect(text).toContain('Stromwerk Laden GmbH');
    expect(text).toMatch(new RegExp(`Total EUR\\s*${new Dec(s.total).toFixed(2)}`));
    expect((await stack.download('/sessions/ses_unknown/receipt/download')).status).toBe(404);
  });

  it('charges the saved payment method when there is one', async () => {
    await as('billing')('PATCH', `/organizations/${org()}`, { payment_method_id: 'pm_card_visa' });
    try {
      const s = await stack.billedSession({ stoppedAt: new Date('2026-07-15T09:00:00Z') });
      const result = await close('2026-07');
      expect(result.status).toBe('paid');
      const inv = (await as('owner')('GET', `/invoices/${result.invoiceId}`)).body;
      expect(inv).toMatchObject({ status: 'paid', payment_method: 'card' });
      expect(new Dec(inv.amount_payable).eq(s.total)).toBe(true);
      const intent = stack.running.fake.paymentIntent(inv.payment_reference);
      expect(intent).toMatchObject({
        status: 'succeeded',
        amount_received: Math.round(Number(s.total) * 100),
      });
    } finally {
      await as('billing')('PATCH', `/organizations/${org()}`, { payment_method_id: null });
    }
  });

  it('answers bad requests with a clear error and writes nothing', async () => {
    const before = await tableCounts(stack.tdb.db);
    const cases: [string, string, string, unknown, number, string | null][] = [
      ['billing', 'POST', `/organizations/${org()}/invoices/close`, { period: 'August' }, 400, 'period'],
      ['billing', 'POST', `/organizations/${org()}/invoices/close`, { period: '2099-01' }, 400, 'period'],
      ['billing', 'POST', `/organizations/${org()}/invoices/close`, {}, 400, 'period'],
      ['admin', 'POST', `/organizations/${org()}/invoices/close`, { period: '2026-01' }, 403, null],
      ['billing', 'POST', '/organizations/org_other/invoices/close', { period: '2026-01' }, 404, null],
      ['billing', 'POST', '/invoices/inv_unknown/void', { reason: 'x' }, 404, null],
      ['owner', 'GET', `/organizations/${org()}/invoices?status=late`, undefined, 400, 'status'],
    ];
    for (const [who, method, p, body, status, param] of cases) {
      const res = await as(who as 'owner')(method, p, body);
      expect({ p, status: res.status, param: res.body.error?.param ?? null }).toEqual({ p, status, param });
    }
    expect(await tableCounts(stack.tdb.db)).toEqual(before);
  });
});
