import schema from '../../docs/webhooks/events.schema.json';
import { EVENT_TYPES } from '../../events/types';
import { backoffMs, afterAttempt, type DeliveryRow } from '../../db/repositories/webhookDeliveries';
import { newWebhookSecret, signatureHeader, verifySignature } from '../../webhooks/signature';

const body = JSON.stringify({ id: 'evt_1', type: 'receipt.issued', data: { object: { total: '7.13' } } });
const now = 1_795_482_259;

describe('webhook signatures', () => {
  const secret = newWebhookSecret();
  const other = newWebhookSecret();

  it('verifies its own header, with each of several live secrets', () => {
    const header = signatureHeader(body, [secret, other], now);
    expect(header).toMatch(/^t=1795482259,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifySignature(body, header, secret, { now })).toEqual({ timestamp: now });
    expect(verifySignature(body, header, other, { now: now + 299 })).toEqual({ timestamp: now });
  });

  it('refuses a changed body, another secret, an old timestamp and a broken header', () => {
    const header = signatureHeader(body, [secret], now);
    expect(() => verifySignature(body.replace('7.13', '0.13'), header, secret, { now })).toThrow(
      /no signature/,
    );
    expect(() => verifySignature(body, header, other, { now })).toThrow(/no signature/);
    expect(() => verifySignature(body, header, secret, { now: now + 301 })).toThrow(/tolerance/);
    expect(() => verifySignature(body, header.replace(/t=\d+/, `t=${now + 1}`), secret, { now })).toThrow(
      /no signature/,
    );
    expect(() => verifySignature(body, undefined, secret)).toThrow(/missing/);
    expect(() => verifySignature(body, 'v1=abc', secret)).toThrow(/timestamp/);
    expect(() => verifySignature(body, `t=${now}`, secret, { now })).toThrow(/no v1/);
    expect(() => verifySignature(body, `t=${now},v1=zz`, secret, { now })).toThrow(/no signature/);
  });

  it('makes a new random secret each time', () => {
    expect(newWebhookSecret()).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(newWebhookSecret());
  });
});

describe('event catalogue', () => {
  it('documents exactly the event types the platform emits', () => {
    expect([...schema.properties.type.enum].sort()).toEqual([...EVENT_TYPES].sort());
    expect(schema.allOf.map((rule) => rule.if.properties.type.const).sort()).toEqual([...EVENT_TYPES].sort());
  });
});

describe('delivery retries', () => {
  const policy = { baseMs: 1_000, maxMs: 8_000, windowMs: 60_000 };
  const delivery = (attempts: number, deadlineInMs: number): DeliveryRow => ({
    id: 'whd_1',
    endpoint_id: 'we_1',
    event_id: 'evt_1',
    event_seq: '1',
    object_id: 'ses_1',
    status: 'pending',
    attempts,
    next_attempt_at: new Date(0),
    deadline_at: new Date(now * 1000 + deadlineInMs),
    delivered_at: null,
    replay: false,
    created_at: new Date(0),
  });
  const at = new Date(now * 1000);
  const failed = { succeeded: false, responseCode: 500, latencyMs: 3, error: 'HTTP 500', at };

  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffMs(n, policy))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
  });

  it('retries before the deadline, gives up past it, and is done on a 2xx', () => {
    const retried = afterAttempt(delivery(2, 10_000), failed, policy);
    expect(retried.status).toBe('pending');
    expect(retried.nextAttemptAt.getTime() - at.getTime()).toBe(4_000);
    expect(afterAttempt(delivery(2, 3_000), failed, policy).status).toBe('failed');
    const ok = afterAttempt(
      delivery(2, 0),
      { ...failed, succeeded: true, responseCode: 204, error: null },
      policy,
    );
    expect(ok.status).toBe('delivered');
  });
});
