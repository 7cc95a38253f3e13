// What a hold gets from the card network: its capture deadline and the features the card offers. Stripe
// reports both on the charge (`payment_method_details.card`), so that is where the fake keeps them too.
import { type FakeCardDetails } from './charges';
import { type FakePaymentIntent } from './payment-intents';
import { type CardOptions } from './payment-method-options';
import { cardProfile } from './test-cards';

/** Stripe's usual window for an online card authorization; networks and extended holds vary. */
export const DEFAULT_HOLD_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** A hold lifetime in whole seconds (the unit of Stripe's timestamps), rounded up. */
export function holdLifetimeSeconds(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`holdLifetimeMs must be a positive number of milliseconds, got ${String(ms)}`);
  }
  return Math.ceil(ms / 1000);
}

/**
 * The card details of a confirmation's charge. A feature is available only when the intent asked for it,
 * the card offers it and a hold was placed (manual capture, not declined), as on Stripe.
 */
export function cardDetails(
  intent: FakePaymentIntent,
  paymentMethod: string,
  hold: { now: number; lifetimeSeconds: number; declined: boolean },
): FakeCardDetails {
  const profile = cardProfile(paymentMethod);
  const held = intent.capture_method === 'manual' && !hold.declined;
  const asked: Partial<CardOptions> = intent.payment_method_options.card ?? {};
  const status = (requested: boolean) => (held && requested ? 'available' : 'unavailable');
  return {
    brand: profile.brand,
    last4: profile.last4,
    funding: profile.funding,
    country: profile.country,
    exp_month: 12,
    exp_year: new Date(hold.now * 1000).getUTCFullYear() + 5,
    network: profile.brand,
    ...(held ? { capture_before: hold.now + hold.lifetimeSeconds } : {}),
    incremental_authorization: {
      status: status(
        asked.request_incremental_authorization === 'if_available' && profile.incrementalAuthorization,
      ),
    },
    multicapture: {
      status: status(asked.request_multicapture === 'if_available' && profile.multicapture),
    },
    // Overcapture is not modelled: a capture is limited to what was authorized.
    overcapture: { status: 'unavailable', maximum_amount_capturable: intent.amount },
    extended_authorization: { status: 'disabled' },
  };
}
