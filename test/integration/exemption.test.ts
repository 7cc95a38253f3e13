import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { BILLING_STATUS } from '../../workflows/search-attributes';
import { tableCounts } from '../api/helpers';
import { Role, useBillingStack } from '../support/billing-stack';
import { pdfText } from '../support/pdf-text';

// The exemption workflow on the real Temporal dev server and PostgreSQL, driven through the REST API:
// request, approve (refund once, credit note, driver e-mail), reject, reminder and expiry, and refusals.

const stack = useBillingStack('exemptions', 'integration-exemptions');
const { as, timers } = stack;

let minute = 0;
/** A session charged to the fixture's driver's card: held, metered, captured, with a receipt. */
const billedSession = (wh = 10_000) =>
  stack.billedSession({ stoppedAt: new Date(Date.UTC(2026, 10, 2, 9, minute++)), wh });

const result = (exemptionId: string) =>
  stack.env.client.workflow.getHandle(`exemption:${exemptionId}`).result();
const driverEmail = () => `${stack.fx.idTag.toLowerCase()}@example.com`;
const mailsTo = (address: string) =>
  stack.smtp.messages.filter((m) => [m.to].flat().some((t) => t?.text.includes(address)));

describe('exemption workflow', () => {
  it('approved by a billing delegate: refunds once despite a lost response, issues a credit note, tells the driver', async () => {
    const { sessionId, total } = await billedSession();
    const requested = await as('admin')('POST', `/sessions/${sessionId}/exemptions`, {
      reason: 'Charger delivered power intermittently',
    });
    expect(requested.status).toBe(201);
    expect(requested.body).toMatchObject({
      status: 'pending',
      amount: null,
      requested_by: stack.memberIds.admin,
    });
    const id = requested.body.id as string;
    expect(id).toMatch(/^exm_/);

    const pending = await as('billing')('GET', '/exemptions/pending');
    expect(pending.body.data.map((e: { id: string }) => e.id)).toContain(id);
    expect((await as('admin')('GET', '/exemptions/pending')).status).toBe(403);
    expect((await as('admin')('POST', `/exemptions/${id}/approve`, {})).status).toBe(403);

    // Stripe refunds but the answer is lost to the client's timeout; the activity retries with the same key.
    stack.running.fake.failNext({ method: 'POST', pathPrefix: '/v1/refunds', status: 200, delayMs: 1500 });
    const approved = await as('billing')('POST', `/exemptions/${id}/approve`, { note: 'Confirmed by site' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decided_by: stack.memberIds.billing });
    expect(await result(id)).toBe('approved');

    const refunds = stack.running.fake.listRefunds();
    expect(refunds).toHaveLength(1);
    expect(refunds[0].amount).toBe(Math.round(Number(total) * 100));
    const read = await as('billing')('GET', `/exemptions/${id}`);
    expect(read.body).toMatchObject({
      status: 'approved',
      reversal: 'refunded',
      refund_id: refunds[0].id,
      amount_reversed: String(Number(total)),
      credit_note: { number: 'CN-000001' },
    });
    const note = await as('owner')('GET', `/credit-notes/${read.body.credit_note.id}`);
    expect(note.body.total).toBe(read.body.amount_reversed);
    const pdf = await stack.download(`/credit-notes/${note.body.id}/download`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const text = await pdfText(Buffer.from(await pdf.arrayBuffer()));
    expect(text).toContain('Credit note');
    expect(text).toContain('Number: CN-000001');
    expect(text).toMatch(new RegExp(`Total EUR\\s*${Number(total).toFixed(2)}`));

    const mail = mailsTo(driverEmail());
    expect(mail).toHaveLength(1);
    expect(mail[0].subject).toContain('credited');
    expect(mail[0].attachments.map((a) => a.filename)).toEqual(['CN-000001.pdf']);

    const session = await as('owner')('GET', `/sessions/${sessionId}`);
    expect(session.body.exemption).toMatchObject({ id, status: 'approved', reversal: 'refunded' });
    expect(session.body.receipt.exemption).toMatchObject({ id, credit_note: { number: 'CN-000001' } });

    const again = await as('owner')('POST', `/exemptions/${id}/reject`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('exemption_decided');
    const second = await as('admin')('POST', `/sessions/${sessionId}/exemptions`, { reason: 'again' });
    expect(second.status).toBe(409);

    const description = await stack.env.client.workflow.getHandle(`exemption:${id}`).describe();
    expect(description.typedSearchAttributes.get(BILLING_STATUS)).toBe('approved');
    const history = await stack.env.client.workflow.getHandle(`exemption:${id}`).fetchHistory();
    // The refund activity really ran twice: its first attempt timed out after Stripe had acted.
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0)
      .filter((n) => n > 0);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
    if (process.env.RECORD_HISTORY) {
      const file = path.join(__dirname, '../replay/histories/exemption-v1-approved.json');
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    }
  });

  it('refuses self-approval (403) and keeps the request open; a rejection leaves the charge', async () => {
    const { sessionId } = await billedSession();
    const requested = await as('owner')('POST', `/sessions/${sessionId}/exemptions`, { reason: 'Goodwill' });
    const id = requested.body.id as string;
    const self = await as('owner')('POST', `/exemptions/${id}/approve`, {});
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('self_approval');
    expect((await as('owner')('GET', `/exemptions/${id}`)).body.status).toBe('pending');

    const refundsBefore = stack.running.fake.listRefunds().length;
    const rejected = await as('billing')('POST', `/exemptions/${id}/reject`, { note: 'Session was fine' });
    expect(rejected.body).toMatchObject({ status: 'rejected', decision_note: 'Session was fine' });
    expect(await result(id)).toBe('rejected');
    expect(stack.running.fake.listRefunds()).toHaveLength(refundsBefore);
    expect((await as('owner')('GET', `/exemptions/${id}`)).body).toMatchObject({
      reversal: null,
      credit_note: null,
    });
    const mail = mailsTo(driverEmail()).filter((m) => m.text?.includes('stands'));
    expect(mail).toHaveLength(1);
    expect(mail[0].text).toContain('Session was fine');
    // A rejected request does not block a new one.
    expect(
      (await as('admin')('POST', `/sessions/${sessionId}/exemptions`, { reason: 'New facts' })).status,
    ).toBe(201);
  });

  it('reminds the approvers, then expires: the charge stands and a late decision is refused', async () => {
    const { sessionId } = await billedSession();
    Object.assign(timers, { remindAfterMs: 1000, expireAfterMs: 3000 });
    try {
      const requested = await as('admin')('POST', `/sessions/${sessionId}/exemptions`, {
        reason: 'No answer',
      });
      const id = requested.body.id as string;
      expect(await result(id)).toBe('expired');
      const read = (await as('owner')('GET', `/exemptions/${id}`)).body;
      expect(read).toMatchObject({ status: 'expired', reversal: null });
      expect(read.reminded_at).not.toBeNull();
      const reminders = stack.smtp.messages.filter((m) => m.subject?.includes(id));
      expect(reminders).toHaveLength(1);
      expect(reminders[0].to && [reminders[0].to].flat()[0].text).toContain('owner@org.example');
      expect([reminders[0].to].flat()[0]!.text).toContain('billing@org.example');
      const late = await as('billing')('POST', `/exemptions/${id}/approve`, {});
      expect(late.status).toBe(409);
    } finally {
      Object.assign(timers, { remindAfterMs: 60_000, expireAfterMs: 120_000 });
    }
  });

  it('waives a partial net amount: the credit note splits it with its VAT, the refund is its total', async () => {
    const { sessionId } = await billedSession(20_000);
    const requested = await as('admin')('POST', `/sessions/${sessionId}/exemptions`, {
      reason: 'Half the session was slow',
      amount: '2.00',
    });
    const id = requested.body.id as string;
    await as('billing')('POST', `/exemptions/${id}/approve`, {});
    await result(id);
    const read = (await as('owner')('GET', `/exemptions/${id}`)).body;
    const note = (await as('owner')('GET', `/credit-notes/${read.credit_note.id}`)).body;
    expect(note.total_excl_vat).toBe('2');
    expect(Number(note.total)).toBeCloseTo(Number(note.total_excl_vat) + Number(note.total_vat), 10);
    const refund = stack.running.fake.listRefunds().find((r) => r.id === read.refund_id)!;
    expect(refund.amount).toBe(Math.round(Number(note.total) * 100));
  });

  it('answers bad requests with a clear error and writes nothing', async () => {
    const { sessionId, total } = await billedSession();
    const before = await tableCounts(stack.tdb.db);
    const cases: [string, string, unknown, number, string | null][] = [
      ['admin', '/sessions/ses_unknown/exemptions', { reason: 'x' }, 404, null],
      ['admin', `/sessions/${sessionId}/exemptions`, {}, 400, 'reason'],
      ['admin', `/sessions/${sessionId}/exemptions`, { reason: 'x', amount: '-1' }, 400, 'amount'],
      [
        'admin',
        `/sessions/${sessionId}/exemptions`,
        { reason: 'x', amount: String(Number(total) * 10) },
        400,
        'amount',
      ],
      ['admin', `/sessions/${sessionId}/exemptions`, { reason: 'x', colour: 1 }, 400, 'colour'],
      ['billing', `/sessions/${sessionId}/exemptions`, { reason: 'x' }, 403, null],
      ['billing', '/exemptions/exm_unknown/approve', {}, 404, null],
    ];
    for (const [who, p, body, status, param] of cases) {
      const res = await as(who as Role)('POST', p, body);
      expect({ p, status: res.status, param: res.body.error?.param ?? null }).toEqual({ p, status, param });
    }
    expect(await tableCounts(stack.tdb.db)).toEqual(before);
  });
});
