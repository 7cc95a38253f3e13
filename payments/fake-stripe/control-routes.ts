// Test-only routes under /_fake/ for what Stripe has no API for: a cardholder disputing a charge, the bank
// deciding it, Stripe delivering an event again, a hold reaching its deadline, the card network declining
// the next hold, increment or off-session charge, every API reply taking a real provider's time. They take a
// form or JSON body and no API key, so a shell script or another process (the local platform runs the fake
// as its own) can drive them with curl.
import { type DeclineOperation, declineOperations, type DeclineRule } from './declines';
import { type DisputeRequest } from './ledger';
import { type DisputeReason, disputeReasons, type DisputeStatus, type FakeDispute } from './disputes';
import { type FakeEventRecord } from './events';
import { type FakePaymentIntent } from './payment-intents';
import { decodeId } from './http-input';
import { emptyFormObject, type FormObject, FormParseError, parseForm } from './form-body';
import { optionalEnum, optionalInteger, optionalString, rejectUnknown } from './params';
import { invalidParam, unrecognizedUrl } from './stripe-error';
import { type LatencyOption } from './latency';

export const CONTROL_PREFIX = '/_fake/';

export interface ControlActions {
  createDispute(req: DisputeRequest): FakeDispute;
  closeDispute(id: string, status: 'won' | 'lost'): FakeDispute;
  /** Starts delivering the event again and answers at once, without waiting for the delivery. */
  startResend(id: string): FakeEventRecord;
  expireHold(id: string): FakePaymentIntent;
  declineNext(rule: DeclineRule): void;
  setHoldLifetime(ms: number | undefined): void;
  setLatency(latency: LatencyOption | undefined): void;
}

/** A form body, or a flat JSON object whose numbers and booleans are read like their form spelling. */
export function parseControlBody(rawBody: string, contentType: string): FormObject {
  if (rawBody.trim() === '') return emptyFormObject();
  if (contentType !== 'application/json') {
    try {
      return parseForm(rawBody);
    } catch (err) {
      if (err instanceof FormParseError) throw invalidParam(err.message, { param: err.param });
      throw err;
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    throw invalidParam('Invalid JSON body.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidParam('The JSON body must be an object.');
  }
  const params = emptyFormObject();
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string') params[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') params[key] = String(value);
    else if (value !== null)
      throw invalidParam(`Invalid value for ${key}: expected a string or number.`, { param: key });
  }
  return params;
}

const disputeParams = new Set(['payment_intent', 'amount', 'reason']);
const declineParams = new Set([
  'on',
  'payment_intent',
  'payment_method',
  'customer',
  'decline_code',
  'count',
]);
const holdLifetimeParams = new Set(['seconds']);
const latencyParams = new Set(['min_ms', 'max_ms']);

function declineRule(params: FormObject): DeclineRule {
  rejectUnknown(params, declineParams);
  const on: DeclineOperation | undefined = optionalEnum(params, 'on', declineOperations);
  if (!on) {
    throw invalidParam(`Missing required param: on (${declineOperations.join(', ')}).`, {
      code: 'parameter_missing',
      param: 'on',
    });
  }
  const count = optionalInteger(params, 'count');
  if (count !== undefined && count < 1) throw invalidParam('count must be at least 1.', { param: 'count' });
  return {
    on,
    paymentIntent: optionalString(params, 'payment_intent') || undefined,
    paymentMethod: optionalString(params, 'payment_method') || undefined,
    customer: optionalString(params, 'customer') || undefined,
    declineCode: optionalString(params, 'decline_code') || undefined,
    count,
  };
}
const closeParams = new Set(['status']);

export function controlRoute(
  method: string,
  path: string,
  params: FormObject,
  actions: ControlActions,
): object {
  if (method === 'POST' && path === '/_fake/disputes') {
    rejectUnknown(params, disputeParams);
    const paymentIntent = optionalString(params, 'payment_intent');
    if (!paymentIntent) {
      throw invalidParam('Missing required param: payment_intent.', {
        code: 'parameter_missing',
        param: 'payment_intent',
      });
    }
    const amount = optionalInteger(params, 'amount');
    const reason: DisputeReason | undefined = optionalEnum(params, 'reason', disputeReasons);
    return actions.createDispute({ paymentIntent, amount, reason });
  }
  const close = /^\/_fake\/disputes\/([^/]+)\/close$/.exec(path);
  if (method === 'POST' && close) {
    rejectUnknown(params, closeParams);
    const status = optionalEnum<Extract<DisputeStatus, 'won' | 'lost'>>(params, 'status', ['won', 'lost']);
    if (!status) {
      throw invalidParam('Missing required param: status (won or lost).', {
        code: 'parameter_missing',
        param: 'status',
      });
    }
    return actions.closeDispute(decodeId(close[1], 'dispute', 'dispute'), status);
  }
  const expire = /^\/_fake\/payment_intents\/([^/]+)\/expire$/.exec(path);
  if (method === 'POST' && expire) {
    rejectUnknown(params, new Set());
    return actions.expireHold(decodeId(expire[1], 'payment_intent', 'intent'));
  }
  if (method === 'POST' && path === '/_fake/declines') {
    const rule = declineRule(params);
    actions.declineNext(rule);
    return { object: 'decline_rule', ...rule };
  }
  if (method === 'POST' && path === '/_fake/hold_lifetime') {
    rejectUnknown(params, holdLifetimeParams);
    const seconds = optionalInteger(params, 'seconds');
    if (seconds !== undefined && seconds < 1) {
      throw invalidParam('seconds must be at least 1.', { param: 'seconds' });
    }
    // No seconds: back to the lifetime the fake was started with.
    actions.setHoldLifetime(seconds === undefined ? undefined : seconds * 1000);
    return { object: 'hold_lifetime', seconds: seconds ?? null };
  }
  if (method === 'POST' && path === '/_fake/latency') {
    rejectUnknown(params, latencyParams);
    const min = optionalInteger(params, 'min_ms');
    const max = optionalInteger(params, 'max_ms');
    if (min === undefined && max === undefined) {
      // Neither: back to the latency the fake was started with.
      actions.setLatency(undefined);
      return { object: 'latency', min_ms: null, max_ms: null };
    }
    if (min === undefined) {
      throw invalidParam('min_ms is required with max_ms.', { code: 'parameter_missing', param: 'min_ms' });
    }
    // min_ms alone is a fixed latency.
    const range = { min, max: max ?? min };
    if (range.min < 0) throw invalidParam('min_ms must be at least 0.', { param: 'min_ms' });
    if (range.max < range.min) throw invalidParam('max_ms must be at least min_ms.', { param: 'max_ms' });
    actions.setLatency(range);
    return { object: 'latency', min_ms: range.min, max_ms: range.max };
  }
  const resend = /^\/_fake\/events\/([^/]+)\/resend$/.exec(path);
  if (method === 'POST' && resend) {
    rejectUnknown(params, new Set());
    const record = actions.startResend(decodeId(resend[1], 'event', 'id'));
    return { id: record.event.id, object: 'event', type: record.event.type, delivery: record.delivery };
  }
  throw unrecognizedUrl(method, path);
}
