import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Stripe from 'stripe';
import schema from '../../docs/webhooks/events.schema.json';
import type { EventEnvelope } from '../../events/types';
import { verifySignature } from '../../webhooks/signature';
import { useBillingStack } from '../support/billing-stack';
import { startTestReceiver, TestReceiver } from '../support/webhook-receiver';
import { TEST_WEBHOOK_SECRET } from '../support/worker';

// Accounting webhooks end to end on the real Temporal dev server and PostgreSQL: events written with their
// changes, relayed from the outbox, delivered by each endpoint's workflow to a real HTTP receiver that
// verifies signatures; Stripe's own webhooks coming in through the Stripe fake.

const stack = useBillingStack('webhooks', 'integration-webhooks');
const { as } = stack;
let receiver: TestReceiver;
const validate = addFormats(new Ajv({ allErrors: true, strict: false })).compile(schema);

async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function register(path: string, enabledEvents: string[] = ['*']) {
  const res = await as('billing')('POST', '/webhook-endpoints', {
    url: `${receiver.url}${path}`,
    enabled_events: enabledEvents,
  });
  expect(res.status).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_/);
  receiver.secrets.push(res.body.secret);
  return res.body as { id: string; secret: string };
}

/** The organization's events, in the order they were written. */
async function outbox(): Promise<{ id: string; type: string; object_id: string }[]> {
  return stack.tdb.db('outbox').where({ organization_id: stack.fx.organizationId }).orderBy('seq');
}

function expectPerObjectOrder(deliveries: EventEnvelope[], events: { id: string; object_id: string }[]) {
  const position = new Map(events.map((e, i) => [e.id, i]));
  const lastByObject = new Map<string, number>();
  for (const d of deliveries) {
    const at = position.get(d.id)!;
    expect(at).toBeGreaterThanOrEqual(lastByObject.get(d.data.object_id) ?? -1);
    lastByObject.set(d.data.object_id, at);
  }
}

beforeAll(async () => {
  receiver = await startTestReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe('accounting webhooks', () => {
  let endpointId: string;
  let secret: string;

  it("delivers a session's events, signed, each matching the published schema", async () => {
    ({ id: endpointId, secret } = await register('/books'));
    const { sessionId } = await stack.billedSession({ stoppedAt: new Date() });
    const completed = await eventually(() =>
      receiver.booked.find((e) => e.type === 'session.completed' && e.data.object_id === sessionId),
    );
    const issued = await eventually(() =>
      receiver.booked.find((e) => e.type === 'receipt.issued' && e.data.object['session_id'] === sessionId),
    );
    expect(completed.data.object['lines']).toEqual(
      expect.arrayContaining([expect.objectContaining({ component: 'energy' })]),
    );
    expect(issued.data.object['total']).toBe(completed.data.object['total']);
    const types = receiver.booked.filter((e) =>
      [sessionId].includes(String(e.data.object['session_id'] ?? e.data.object_id)),
    );
    expect(types.map((e) => e.type).sort()).toEqual(
      [
        'payment.authorized',
        'payment.captured',
        'receipt.issued',
        'session.completed',
        'session.started',
      ].sort(),
    );
    for (const event of receiver.booked) {
      expect({ type: event.type, valid: validate(event), errors: validate.errors ?? null }).toEqual({
        type: event.type,
        valid: true,
        errors: null,
      });
    }
    // A receiver with the secret accepts the header; a forged body or an old timestamp is refused.
    const { header, body } = receiver.requests.at(-1)!;
    expect(() => verifySignature(body, header, secret)).not.toThrow();
    expect(() => verifySignature(body.replace('"event"', '"evenT"'), header, secret)).toThrow(/no signature/);
    expect(() => verifySignature(body, header, secret, { now: Date.now() / 1000 + 3600 })).toThrow(
      /tolerance/,
    );
    expectPerObjectOrder(receiver.deliveries, await outbox());

    const attempts = await as('owner')(
      'GET',
      `/webhook-endpoints/${endpointId}/deliveries?status=delivered&limit=100`,
    );
    expect(attempts.status).toBe(200);
    const one = await as('owner')(
      'GET',
      `/webhook-endpoints/${endpointId}/deliveries/${attempts.body.data[0].id}`,
    );
    expect(one.body.attempt_log[0]).toEqual(
      expect.objectContaining({ outcome: 'succeeded', response_code: 200, latency_ms: expect.any(Number) }),
    );
  });

  it('delivers every event after the receiver was down, in order per object, deduplicable by id', async () => {
    const before = receiver.booked.length;
    await receiver.down();
    const sessions = [
      await stack.billedSession({ stoppedAt: new Date() }),
      await stack.billedSession({ stoppedAt: new Date(), wh: 20_000 }),
    ];
    // Attempts fail while it is down, and are recorded with the reason.
    const failing = await eventually(async () => {
      const page = await as('owner')(
        'GET',
        `/webhook-endpoints/${endpointId}/deliveries?status=pending&limit=100`,
      );
      return page.body.data.find((d: { attempts: number }) => d.attempts > 0);
    });
    const detail = await as('owner')('GET', `/webhook-endpoints/${endpointId}/deliveries/${failing.id}`);
    expect(detail.body.attempt_log[0]).toEqual(
      expect.objectContaining({ outcome: 'failed', response_code: null }),
    );
    await receiver.up();

    const events = await outbox();
    await eventually(() => receiver.booked.length === events.length);
    expect(new Set(receiver.booked.map((e) => e.id))).toEqual(new Set(events.map((e) => e.id)));
    expect(receiver.booked.length).toBeGreaterThan(before);
    for (const s of sessions) {
      expect(
        receiver.booked.some(
          (e) => e.type === 'receipt.issued' && e.data.object['session_id'] === s.sessionId,
        ),
      ).toBe(true);
    }
    expectPerObjectOrder(receiver.deliveries, events);
    const pending = await stack.tdb
      .db('webhook_deliveries')
      .where({ endpoint_id: endpointId, status: 'pending' });
    expect(pending).toEqual([]);
  });

  it('replays one event and a time range; the receiver sees the same ids again', async () => {
    const [first] = await outbox();
    const deliveriesBefore = receiver.deliveries.length;
    const one = await as('billing')('POST', `/webhook-endpoints/${endpointId}/replays`, {
      event_id: first.id,
    });
    expect(one.status).toBe(202);
    expect(one.body.deliveries).toBe(1);
    await eventually(() => receiver.deliveries.slice(deliveriesBefore).some((e) => e.id === first.id));

    const range = await as('billing')('POST', `/webhook-endpoints/${endpointId}/replays`, {
      created_from: new Date(Date.now() - 3600_000).toISOString(),
      created_to: new Date(Date.now() + 1000).toISOString(),
    });
    expect(range.body.deliveries).toBe((await outbox()).length);
    await eventually(() => receiver.deliveries.length >= deliveriesBefore + 1 + range.body.deliveries);
    expect(new Set(receiver.booked.map((e) => e.id)).size).toBe(receiver.booked.length);

    const bad = await as('billing')('POST', `/webhook-endpoints/${endpointId}/replays`, {
      created_from: 'yesterday',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('created_from');
  });

  it('rotates the secret with an overlap: both secrets sign until the old one expires', async () => {
    const ping = async () => {
      const res = await as('owner')('POST', `/webhook-endpoints/${endpointId}/ping`, {});
      expect(res.body).toEqual(expect.objectContaining({ succeeded: true, response_code: 200 }));
      return receiver.requests.find((r) => r.body.includes(res.body.event_id))!;
    };
    const rotated = await as('owner')('POST', `/webhook-endpoints/${endpointId}/rotate-secret`, {
      overlap_seconds: 3600,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(secret);
    const overlapping = await ping();
    expect(overlapping.header.match(/v1=/g)).toHaveLength(2);
    expect(() => verifySignature(overlapping.body, overlapping.header, secret)).not.toThrow();
    expect(() => verifySignature(overlapping.body, overlapping.header, rotated.body.secret)).not.toThrow();
    receiver.secrets.push(rotated.body.secret);

    // The receiver switched to the new secret; the next rotation ends the old ones at once.
    const now = await as('owner')('POST', `/webhook-endpoints/${endpointId}/rotate-secret`, {
      overlap_seconds: 0,
    });
    receiver.secrets.push(now.body.secret);
    const latest = await ping();
    expect(latest.header.match(/v1=/g)).toHaveLength(1);
    expect(() => verifySignature(latest.body, latest.header, now.body.secret)).not.toThrow();
    expect(() => verifySignature(latest.body, latest.header, secret)).toThrow();

    const audit = await as('billing')(
      'GET',
      `/audit-log?action=webhook_endpoint.secret_rotated&object_id=${endpointId}`,
    );
    expect(audit.body.data).toHaveLength(2);
    expect(audit.body.data[0].actor).toEqual({ type: 'member', id: stack.memberIds.owner });
    expect(JSON.stringify(audit.body.data)).not.toContain(now.body.secret);
  });

  it('disables an endpoint that answers 500 for good, and tells the owner', async () => {
    receiver.failing.add('/broken');
    stack.webhooks.disableAfterMs = 1_500;
    try {
      const broken = await register('/broken', ['receipt.issued']);
      await stack.billedSession({ stoppedAt: new Date() });
      const disabled = await eventually(async () => {
        const res = await as('owner')('GET', `/webhook-endpoints/${broken.id}`);
        return res.body.status === 'disabled' ? res.body : undefined;
      });
      expect(disabled.disabled_reason).toMatch(/HTTP 500/);
      const mail = await eventually(() =>
        stack.smtp.messages.find((m) => m.subject?.includes('has been disabled')),
      );
      expect(mail.text).toContain(broken.id);
      const attempts = await stack.tdb
        .db('webhook_attempts as a')
        .join('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .where({ 'd.endpoint_id': broken.id });
      expect(attempts.length).toBeGreaterThan(1);
      expect(attempts.every((a) => a.response_code === 500)).toBe(true);
      // The run that disabled it, replayed by today's code and kept for the replay test.
      const run = stack.env.client.workflow.getHandle(`webhook-endpoint:${broken.id}`);
      expect(await run.result()).toBe('disabled');
      const history = await run.fetchHistory();
      await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history);
      if (process.env.RECORD_HISTORY) {
        const file = path.join(__dirname, '../replay/histories/webhook-endpoint-v1.json');
        writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
      }
      // The healthy endpoint is untouched.
      expect((await as('owner')('GET', `/webhook-endpoints/${endpointId}`)).body.status).toBe('enabled');
    } finally {
      stack.webhooks.disableAfterMs = 60_000;
    }
  });

  it('takes Stripe webhooks: a refund made at Stripe becomes refund.created; bad signatures and repeats change nothing', async () => {
    const stripeHook = `${stack.baseUrl}/providers/stripe/webhook`;
    stack.running.fake.setWebhookEndpoint(stripeHook, TEST_WEBHOOK_SECRET);
    const { sessionId } = await stack.billedSession({ stoppedAt: new Date() });
    const payment = await stack.tdb.db('payments').where({ session_id: sessionId }).first();
    const stripe = new Stripe('sk_test_integration', {
      host: '127.0.0.1',
      port: stack.running.fake.port,
      protocol: 'http',
    });
    const refund = await stripe.refunds.create({ payment_intent: payment.provider_payment_id, amount: 100 });
    await stack.running.fake.webhooksIdle();
    const created = await eventually(() =>
      receiver.booked.find(
        (e) => e.type === 'refund.created' && e.data.object['provider_refund_id'] === refund.id,
      ),
    );
    expect(created.data.object).toEqual(
      expect.objectContaining({
        amount: '1.00',
        source: 'provider',
        session_id: sessionId,
        payment_id: payment.id,
      }),
    );

    // Stripe sends the same event again: applied once.
    const sent = stack.running.fake.events().find((e) => e.event.type === 'charge.refunded')!;
    const again = await stack.running.fake.resendEvent(sent.event.id);
    expect(again.lastStatus).toBe(200);
    expect(await stack.tdb.db('refunds').where({ provider_refund_id: refund.id })).toHaveLength(1);
    expect((await stack.tdb.db('provider_events').where({ id: sent.event.id }).first()).outcome).toBe(
      'applied',
    );

    // A forged delivery: 400, nothing recorded.
    const payload = JSON.stringify({ ...sent.event, id: 'evt_forged' });
    const forged = await fetch(stripeHook, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_wrong' }),
      },
      body: payload,
    });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('signature_invalid');
    expect(await stack.tdb.db('provider_events').where({ id: 'evt_forged' })).toEqual([]);

    // A valid signature on an event type we do not act on: 200, ignored.
    const unknown = JSON.stringify({
      id: 'evt_unknown_type',
      object: 'event',
      type: 'customer.created',
      created: 1,
      data: { object: {} },
    });
    const ignored = await fetch(stripeHook, {
      method: 'POST',
      headers: {
        'stripe-signature': stripe.webhooks.generateTestHeaderString({
          payload: unknown,
          secret: TEST_WEBHOOK_SECRET,
        }),
      },
      body: unknown,
    });
    expect(ignored.status).toBe(200);
    expect(((await ignored.json()) as { outcome: string }).outcome).toBe('ignored');

    // A dispute opened and lost at Stripe.
    const dispute = stack.running.fake.createDispute({ paymentIntent: payment.provider_payment_id });
    stack.running.fake.closeDispute(dispute.id, 'lost');
    await stack.running.fake.webhooksIdle();
    const closed = await eventually(() =>
      receiver.booked.find(
        (e) => e.type === 'dispute.closed' && e.data.object['provider_dispute_id'] === dispute.id,
      ),
    );
    expect(closed.data.object['status']).toBe('lost');
    expect(
      receiver.booked.some((e) => e.type === 'dispute.opened' && e.data.object_id === closed.data.object_id),
    ).toBe(true);
    stack.running.fake.removeWebhookEndpoint();
  });

  it('keeps an append-only audit log of money movements', async () => {
    const captured = await as('owner')('GET', '/audit-log?action=payment.captured&limit=100');
    expect(captured.status).toBe(200);
    expect(captured.body.data.length).toBeGreaterThan(0);
    expect(captured.body.data[0]).toEqual(
      expect.objectContaining({ actor: { type: 'system', id: 'billing-engine' }, object_type: 'payment' }),
    );
    expect(captured.body.data[0].after.status).toBe('captured');
    const refunds = await as('owner')('GET', '/audit-log?action=refund.created');
    expect(refunds.body.data[0].actor).toEqual({ type: 'provider', id: 'stripe' });
    await expect(stack.tdb.db('audit_log').update({ actor_id: 'someone else' })).rejects.toThrow(
      /append-only/,
    );
    await expect(stack.tdb.db('audit_log').delete()).rejects.toThrow(/append-only/);
    const viewerless = await as('owner')('GET', '/audit-log?created_from=not-a-date');
    expect(viewerless.status).toBe(400);
  });

  it('lists events with filters, and refuses bad endpoint input without writing', async () => {
    const receipts = await as('owner')('GET', '/events?type=receipt.issued&limit=100');
    expect(receipts.body.data.length).toBeGreaterThan(0);
    expect(receipts.body.data.every((e: EventEnvelope) => e.type === 'receipt.issued')).toBe(true);
    const one = await as('owner')('GET', `/events/${receipts.body.data[0].id}`);
    expect(one.body).toEqual(receipts.body.data[0]);
    expect((await as('owner')('GET', '/events?type=receipt.lost')).status).toBe(400);

    const count = async () => Number((await stack.tdb.db('webhook_endpoints').count('* as n').first())!.n);
    const n = await count();
    for (const [body, param] of [
      [{ url: 'ftp://x.example/', enabled_events: ['*'] }, 'url'],
      [{ url: 'https://x.example/', enabled_events: [] }, 'enabled_events'],
      [{ url: 'https://x.example/', enabled_events: ['invoice.eaten'] }, 'enabled_events[0]'],
      [{ url: 'https://x.example/', enabled_events: ['*'], colour: 'red' }, 'colour'],
      [{ enabled_events: ['*'] }, 'url'],
    ] as const) {
      const res = await as('owner')('POST', '/webhook-endpoints', body);
      expect({ status: res.status, param: res.body.error?.param }).toEqual({ status: 400, param });
    }
    expect(await count()).toBe(n);
  });
});
