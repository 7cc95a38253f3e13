// Incremental authorization (`POST /v1/payment_intents/{id}/increment_authorization`): the rules a request
// must pass before it reaches the card. Stripe's documented limits: the intent must be holding funds
// (requires_capture, nothing captured yet), the charge must offer incremental authorization, the new amount
// must be above the current one, and there are at most 10 attempts per intent, declines included.
import { expireIfDue, type HoldContext } from './captures';
import { type FakeCardDetails } from './charges';
import { type FormObject } from './form-body';
import { optionalMetadata, optionalString, requiredAmount } from './params';
import { type FakePaymentIntent } from './payment-intents';
import { FakeStripeError, invalidParam, invalidState } from './stripe-error';
import { type CardDecline, incrementDeclineFor } from './test-cards';

export const MAX_INCREMENT_ATTEMPTS = 10;
// Stripe's ceiling for a single charge in most currencies (eight digits of minor units).
export const MAX_AMOUNT = 99_999_999;

export const incrementParams = new Set([
  'amount',
  'amount_details',
  'application_fee_amount',
  'description',
  'expand',
  'metadata',
  'payment_details',
  'statement_descriptor',
  'transfer_data',
]);

/** Attempts per intent; kept beside the intent because Stripe does not show the count on it. */
export class IncrementLog {
  private readonly attempts = new Map<string, number>();

  count(intentId: string): number {
    return this.attempts.get(intentId) ?? 0;
  }

  record(intentId: string): void {
    this.attempts.set(intentId, this.count(intentId) + 1);
  }

  clear(): void {
    this.attempts.clear();
  }
}

/**
 * Why this increment cannot be attempted, or undefined when it can. Refusals are 400s decided by the
 * intent's state, so they are stored for idempotent replay and do not count as attempts.
 */
export function incrementRefusal(
  intent: FakePaymentIntent,
  card: FakeCardDetails | undefined,
  attempts: number,
  amount: number,
  snapshot: FakePaymentIntent,
): FakeStripeError | undefined {
  if (intent.status !== 'requires_capture' || intent.amount_received > 0) {
    const state = intent.status === 'requires_capture' ? 'a partial capture' : `a status of ${intent.status}`;
    return invalidState(
      `This PaymentIntent's authorization could not be incremented because it has ${state}. ` +
        'Only a PaymentIntent with status requires_capture and nothing captured may be incremented.',
      { code: 'payment_intent_unexpected_state', payment_intent: snapshot },
    );
  }
  if (card?.incremental_authorization.status !== 'available') {
    return invalidState(
      'This PaymentIntent is not eligible for incremental authorization: request it with ' +
        'payment_method_options[card][request_incremental_authorization]=if_available on a card that supports it.',
      { code: 'payment_intent_invalid_parameter', payment_intent: snapshot },
    );
  }
  if (attempts >= MAX_INCREMENT_ATTEMPTS) {
    return invalidState(
      `This PaymentIntent has reached the maximum of ${MAX_INCREMENT_ATTEMPTS} incremental authorization attempts.`,
      { code: 'payment_intent_invalid_parameter', payment_intent: snapshot },
    );
  }
  if (amount <= intent.amount) {
    return invalidParam(
      `The amount (${amount}) must be greater than the currently authorized amount (${intent.amount}).`,
      { code: 'parameter_invalid_integer', param: 'amount', payment_intent: snapshot },
    );
  }
  if (amount > MAX_AMOUNT) {
    return invalidParam(`Amount must be no more than ${MAX_AMOUNT}.`, {
      code: 'amount_too_large',
      param: 'amount',
    });
  }
  return undefined;
}

export interface IncrementContext extends HoldContext {
  attempts: IncrementLog;
  /** A decline a test scripted for this intent's next increment (see DeclineScript). */
  scriptedDecline(intent: FakePaymentIntent): CardDecline | undefined;
}

/** `POST /v1/payment_intents/{id}/increment_authorization`; returns the intent, changed. */
export function incrementHold(id: string, params: FormObject, ctx: IncrementContext): FakePaymentIntent {
  const amount = requiredAmount(params);
  const metadata = optionalMetadata(params);
  const description = optionalString(params, 'description');
  const intent = ctx.find(id);
  expireIfDue(intent, ctx);
  const copy = structuredClone(intent);
  const refusal = incrementRefusal(intent, ctx.card(intent), ctx.attempts.count(id), amount, copy);
  if (refusal) throw refusal;
  ctx.attempts.record(id);
  const decline = ctx.scriptedDecline(intent) ?? incrementDeclineFor(intent.payment_method ?? '');
  if (decline) {
    // The hold stays as it was, capturable for the amount authorized before.
    throw new FakeStripeError(402, {
      type: 'card_error',
      ...decline,
      charge: intent.latest_charge ?? undefined,
      doc_url: `https://stripe.com/docs/error-codes/${decline.code.replace(/_/g, '-')}`,
      payment_intent: copy,
    });
  }
  intent.amount = amount;
  intent.amount_capturable = amount;
  if (description !== undefined) intent.description = description || null;
  if (metadata) Object.assign(intent.metadata, metadata);
  ctx.listener.changed(structuredClone(intent), 'incremented');
  return intent;
}
