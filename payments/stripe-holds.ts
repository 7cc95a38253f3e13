// The hold's life on Stripe: a PaymentIntent with manual capture is authorized, raised with incremental
// authorizations, captured (in one go, or in parts with multicapture) or released. What the hold got from
// the card network, and its capture deadline, are read from its charge (`payment_method_details.card`),
// which is why every call here expands `latest_charge`.
import Stripe from 'stripe';
import { type Logger } from '../config/logger';
import {
  assertMinorUnits,
  type AuthorizeRequest,
  type AuthorizeResult,
  type CancelRequest,
  type CancelResult,
  type CaptureRequest,
  type CaptureResult,
  type CardSummary,
  type IncrementRequest,
  type IncrementResult,
  type PaymentCapabilities,
  type PaymentStatus,
} from './port';
import {
  declineOf,
  intentOf,
  isHoldGone,
  requireIdempotencyKey,
  requireText,
  stripeCurrency,
  toPortError,
} from './stripe-errors';

// Stripe's documented limit per PaymentIntent, declines included.
const MAX_INCREMENT_ATTEMPTS = 10;
export const WITH_CHARGE = ['latest_charge'];

interface HoldFeatures {
  incrementalAuthorization: boolean;
  multicapture: boolean;
  overcapture: boolean;
  overcaptureMaxMinor: number | null;
  captureBefore: string | null;
}

function cardOf(intent: Stripe.PaymentIntent): Stripe.Charge.PaymentMethodDetails.Card | undefined {
  const charge = intent.latest_charge;
  if (!charge || typeof charge === 'string') return undefined;
  return charge.payment_method_details?.card ?? undefined;
}

/**
 * The card a payment was made with, for receipts: brand and last four digits from the expanded charge.
 * Undefined when the charge was not expanded or carries no card (the port's field is optional).
 */
export function cardSummaryOf(intent: Stripe.PaymentIntent): CardSummary | undefined {
  const card = cardOf(intent);
  if (!card?.brand || !card.last4) return undefined;
  return { brand: card.brand, last4: card.last4 };
}

/** What the card network granted this hold. Absent details mean not granted, and no known deadline. */
function holdFeatures(intent: Stripe.PaymentIntent): HoldFeatures {
  const card = cardOf(intent);
  const overcapture = card?.overcapture?.status === 'available';
  return {
    incrementalAuthorization: card?.incremental_authorization?.status === 'available',
    multicapture: card?.multicapture?.status === 'available',
    overcapture,
    overcaptureMaxMinor: overcapture ? (card?.overcapture?.maximum_amount_capturable ?? null) : null,
    captureBefore: card?.capture_before ? new Date(card.capture_before * 1000).toISOString() : null,
  };
}

/** `{ card }` when the provider reported the card, else nothing, so results carry no `card: undefined`. */
export function cardField(intent: Stripe.PaymentIntent): { card?: CardSummary } {
  const card = cardSummaryOf(intent);
  return card ? { card } : {};
}

function paymentStatus(status: Stripe.PaymentIntent.Status): PaymentStatus {
  switch (status) {
    case 'requires_capture':
      return 'authorized';
    case 'succeeded':
      return 'captured';
    case 'canceled':
      return 'released';
    case 'requires_payment_method':
      return 'failed';
    default:
      return 'pending';
  }
}

export function createStripeHolds(stripe: Stripe, log: Logger) {
  async function authorize(r: AuthorizeRequest): Promise<AuthorizeResult> {
    assertMinorUnits('amountMinor', r.amountMinor, 1);
    const currency = stripeCurrency(r.currency);
    requireText('paymentMethodId', r.paymentMethodId);
    requireIdempotencyKey(r.idempotencyKey);
    // Saving needs a customer to save the method on; the later off-session charge names the same customer.
    const save = (r.saveForOffSession ?? true) && Boolean(r.customerId);
    const card: Stripe.PaymentIntentCreateParams.PaymentMethodOptions.Card = {
      ...((r.incrementalAuthorization ?? true) ? { request_incremental_authorization: 'if_available' } : {}),
      ...(r.multicapture ? { request_multicapture: 'if_available' } : {}),
    };
    const params: Stripe.PaymentIntentCreateParams = {
      amount: r.amountMinor,
      currency,
      payment_method: r.paymentMethodId,
      capture_method: 'manual',
      confirm: true,
      // Stripe refuses `off_session` together with `setup_future_usage` (a method is saved with the
      // customer's consent, given on-session), so a hold that saves the method is customer-initiated.
      ...(save ? { setup_future_usage: 'off_session' as const } : { off_session: true }),
      // Nobody can follow a redirect here, and Stripe only confirms without a return_url once
      // redirect-based methods are ruled out.
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      ...(Object.keys(card).length > 0 ? { payment_method_options: { card } } : {}),
      ...(r.customerId ? { customer: r.customerId } : {}),
      ...(r.description ? { description: r.description } : {}),
      ...(r.metadata ? { metadata: r.metadata } : {}),
      expand: WITH_CHARGE,
    };
    try {
      const intent = await stripe.paymentIntents.create(params, { idempotencyKey: r.idempotencyKey });
      if (intent.status === 'requires_capture') {
        const features = holdFeatures(intent);
        log.info('payment authorized', {
          paymentId: intent.id,
          amountMinor: intent.amount_capturable,
          currency,
          incremental: features.incrementalAuthorization,
          captureBefore: features.captureBefore,
        });
        return {
          outcome: 'authorized',
          paymentId: intent.id,
          amountCapturableMinor: intent.amount_capturable,
          incrementalAuthorization: features.incrementalAuthorization,
          multicapture: features.multicapture,
          captureBefore: features.captureBefore,
          ...cardField(intent),
        };
      }
      // Created but not holding funds: the card wants 3-D Secure, which nobody can complete from here.
      const failure = intent.last_payment_error;
      const code =
        intent.status === 'requires_action'
          ? 'authentication_required'
          : failure?.decline_code || failure?.code || intent.status;
      log.info('payment not authorized', { paymentId: intent.id, status: intent.status, code });
      return {
        outcome: 'declined',
        paymentId: intent.id,
        code,
        message: failure?.message ?? `PaymentIntent is ${intent.status}, not requires_capture`,
      };
    } catch (err) {
      const decline = declineOf(err);
      if (decline) {
        const paymentId = intentOf(err)?.id;
        log.info('payment declined', { paymentId, code: decline.code });
        return { outcome: 'declined', paymentId, ...decline };
      }
      throw toPortError(err, 'authorize', log);
    }
  }

  async function increment(r: IncrementRequest): Promise<IncrementResult> {
    requireText('paymentId', r.paymentId);
    requireIdempotencyKey(r.idempotencyKey);
    assertMinorUnits('newAmountMinor', r.newAmountMinor, 1);
    const params: Stripe.PaymentIntentIncrementAuthorizationParams = {
      amount: r.newAmountMinor,
      ...(r.metadata ? { metadata: r.metadata } : {}),
    };
    try {
      const intent = await stripe.paymentIntents.incrementAuthorization(r.paymentId, params, {
        idempotencyKey: r.idempotencyKey,
      });
      log.info('hold incremented', { paymentId: intent.id, amountMinor: intent.amount_capturable });
      return {
        outcome: 'incremented',
        paymentId: intent.id,
        amountCapturableMinor: intent.amount_capturable,
      };
    } catch (err) {
      const decline = declineOf(err);
      if (decline) {
        log.info('increment declined', { paymentId: r.paymentId, code: decline.code });
        return { outcome: 'declined', ...decline };
      }
      const intent = intentOf(err);
      // The same total asked again under a new key (a reset workflow): the hold already has it.
      if (
        intent?.id === r.paymentId &&
        intent.status === 'requires_capture' &&
        intent.amount === r.newAmountMinor
      ) {
        return {
          outcome: 'incremented',
          paymentId: intent.id,
          amountCapturableMinor: intent.amount_capturable,
        };
      }
      // A 400 about the hold itself (not offered for it, attempts used up) while it still stands: the hold
      // cannot grow, which the workflow handles like a decline. A bad amount stays a caller error.
      if (
        err instanceof Stripe.errors.StripeInvalidRequestError &&
        err.statusCode === 400 &&
        !isHoldGone(err) &&
        err.code !== 'amount_too_large' &&
        err.param !== 'amount' &&
        (intent === undefined || intent.status === 'requires_capture')
      ) {
        log.info('increment unavailable', { paymentId: r.paymentId, code: err.code, message: err.message });
        return { outcome: 'unavailable', code: err.code ?? 'unavailable', message: err.message };
      }
      throw toPortError(err, 'increment', log);
    }
  }

  async function capture(r: CaptureRequest): Promise<CaptureResult> {
    requireText('paymentId', r.paymentId);
    requireIdempotencyKey(r.idempotencyKey);
    // Stripe refuses a zero capture; releasing the whole hold is release().
    assertMinorUnits('amountMinor', r.amountMinor, 1);
    const final = r.final ?? true;
    const params: Stripe.PaymentIntentCaptureParams = {
      amount_to_capture: r.amountMinor,
      // Sent only when false: Stripe defaults to a final capture, and holds without multicapture take that.
      ...(final ? {} : { final_capture: false }),
    };
    try {
      const intent = await stripe.paymentIntents.capture(r.paymentId, params, {
        idempotencyKey: r.idempotencyKey,
      });
      log.info('payment captured', {
        paymentId: intent.id,
        amountMinor: intent.amount_received,
        final,
      });
      return {
        paymentId: intent.id,
        amountCapturedMinor: intent.amount_received,
        amountCapturableMinor: intent.amount_capturable,
        status: 'captured',
      };
    } catch (err) {
      // Idempotency keys cover retries; this covers a capture repeated under a new key (a reset workflow,
      // a replayed job). Capturing the same amount again is the same business act, so report it done.
      const intent = intentOf(err);
      if (
        intent?.id === r.paymentId &&
        intent.status === 'succeeded' &&
        intent.amount_received === r.amountMinor
      ) {
        log.info('payment was already captured', {
          paymentId: intent.id,
          amountMinor: intent.amount_received,
        });
        return {
          paymentId: intent.id,
          amountCapturedMinor: intent.amount_received,
          amountCapturableMinor: 0,
          status: 'captured',
        };
      }
      throw toPortError(err, 'capture', log);
    }
  }

  async function release(r: CancelRequest): Promise<CancelResult> {
    requireText('paymentId', r.paymentId);
    requireIdempotencyKey(r.idempotencyKey);
    try {
      const intent = await stripe.paymentIntents.cancel(
        r.paymentId,
        {},
        { idempotencyKey: r.idempotencyKey },
      );
      log.info('hold released', { paymentId: intent.id });
      return { paymentId: intent.id, status: 'canceled' };
    } catch (err) {
      // Released already (by us, or by Stripe at the deadline): that is all the caller asked for.
      const intent = intentOf(err);
      if (intent?.id === r.paymentId && intent.status === 'canceled') {
        log.info('hold was already released', { paymentId: intent.id });
        return { paymentId: intent.id, status: 'canceled' };
      }
      throw toPortError(err, 'release', log);
    }
  }

  async function capabilities(paymentId?: string): Promise<PaymentCapabilities> {
    const limits = { maxIncrementAttempts: MAX_INCREMENT_ATTEMPTS };
    if (paymentId === undefined) {
      // What this adapter can ask for; whether a hold gets it depends on the card, so ask about the payment.
      return {
        incrementalAuthorization: true,
        multicapture: true,
        overcapture: false,
        overcaptureMaxMinor: null,
        captureBefore: null,
        ...limits,
      };
    }
    requireText('paymentId', paymentId);
    let intent: Stripe.PaymentIntent;
    try {
      intent = await stripe.paymentIntents.retrieve(paymentId, { expand: WITH_CHARGE });
    } catch (err) {
      throw toPortError(err, 'capabilities', log);
    }
    const features = holdFeatures(intent);
    const held = intent.status === 'requires_capture';
    return {
      // A hold that was captured or released can no longer grow, whatever the card offered.
      incrementalAuthorization: held && features.incrementalAuthorization,
      multicapture: held && features.multicapture,
      overcapture: held && features.overcapture,
      overcaptureMaxMinor: held ? features.overcaptureMaxMinor : null,
      captureBefore: features.captureBefore,
      ...limits,
      payment: {
        status: paymentStatus(intent.status),
        currency: intent.currency.toUpperCase(),
        amountAuthorizedMinor: intent.amount,
        amountCapturableMinor: intent.amount_capturable,
        amountCapturedMinor: intent.amount_received,
      },
    };
  }

  return { authorize, increment, capture, release, capabilities };
}
