// Capturing a hold, and a hold lapsing at its deadline. A capture takes at most what the hold has
// capturable; a final one releases the rest (the intent succeeds with amount_received < amount), a
// non-final one (multicapture) keeps it for the next. Past `capture_before` the hold is gone.
import { type FakeCardDetails } from './charges';
import { type FormObject } from './form-body';
import { type Clock } from './ids';
import { optionalBoolean, optionalInteger, optionalMetadata } from './params';
import { type FakePaymentIntent, type IntentListener } from './payment-intents';
import { invalidParam, invalidState } from './stripe-error';

export interface HoldContext {
  clock: Clock;
  listener: IntentListener;
  find(id: string): FakePaymentIntent;
  card(intent: FakePaymentIntent): FakeCardDetails | undefined;
}

const copy = (intent: FakePaymentIntent) => structuredClone(intent);

/**
 * Releases a hold whose deadline has passed: canceled when nothing was captured, succeeded with what was
 * when it was captured in parts. Returns whether it did so now. Stripe sweeps lapsed holds on its own
 * schedule; the fake does it when the intent is next touched, which tests can time exactly.
 */
export function expireIfDue(intent: FakePaymentIntent, ctx: HoldContext): boolean {
  if (intent.status !== 'requires_capture') return false;
  const deadline = ctx.card(intent)?.capture_before;
  if (deadline === undefined || ctx.clock() < deadline) return false;
  intent.amount_capturable = 0;
  if (intent.amount_received > 0) {
    intent.status = 'succeeded';
    ctx.listener.changed(copy(intent), 'captured');
    return true;
  }
  intent.status = 'canceled';
  intent.canceled_at = ctx.clock();
  intent.cancellation_reason = 'automatic';
  ctx.listener.changed(copy(intent), 'canceled');
  return true;
}

/** `POST /v1/payment_intents/{id}/capture`; returns the intent, changed. */
export function captureHold(id: string, params: FormObject, ctx: HoldContext): FakePaymentIntent {
  const amountToCapture = optionalInteger(params, 'amount_to_capture');
  const metadata = optionalMetadata(params);
  const final = optionalBoolean(params, 'final_capture') ?? true;
  const intent = ctx.find(id);
  if (expireIfDue(intent, ctx)) {
    throw invalidState(
      'This PaymentIntent could not be captured because its authorization expired at capture_before; ' +
        'the uncaptured amount was released.',
      { code: 'charge_expired_for_capture', payment_intent: copy(intent) },
    );
  }
  if (intent.status !== 'requires_capture') {
    throw invalidState(
      `This PaymentIntent could not be captured because it has a status of ${intent.status}. ` +
        'Only a PaymentIntent with one of the following statuses may be captured: requires_capture.',
      { code: 'payment_intent_unexpected_state', payment_intent: copy(intent) },
    );
  }
  const amount = amountToCapture ?? intent.amount_capturable;
  if (amount < 1) {
    // Releasing the whole hold is a cancel; Stripe refuses a zero capture.
    throw invalidParam('amount_to_capture must be at least 1.', {
      code: 'parameter_invalid_integer',
      param: 'amount_to_capture',
    });
  }
  if (amount > intent.amount_capturable) {
    throw invalidState(
      `The amount to capture (${amount}) is greater than the amount capturable (${intent.amount_capturable}).`,
      { code: 'amount_too_large', param: 'amount_to_capture', payment_intent: copy(intent) },
    );
  }
  if (!final && ctx.card(intent)?.multicapture.status !== 'available') {
    throw invalidState(
      'final_capture=false needs multicapture, which is not available for this PaymentIntent: request it ' +
        'with payment_method_options[card][request_multicapture]=if_available on a card that supports it.',
      { code: 'payment_intent_invalid_parameter', param: 'final_capture', payment_intent: copy(intent) },
    );
  }
  intent.amount_received += amount;
  intent.amount_capturable -= amount;
  // A final capture releases the rest of the hold; so does a partial one that leaves nothing to capture.
  if (final || intent.amount_capturable === 0) {
    intent.amount_capturable = 0;
    intent.status = 'succeeded';
  }
  if (metadata) Object.assign(intent.metadata, metadata);
  ctx.listener.changed(copy(intent), 'captured');
  return intent;
}
