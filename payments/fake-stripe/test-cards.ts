// Stripe's documented test PaymentMethods that make a confirmation fail, so flows written against real
// Stripe test mode behave the same against the fake. Any other `pm_...` id authorizes successfully.

export interface CardDecline {
  code: string;
  decline_code: string;
  message: string;
}

const genericDecline: CardDecline = {
  code: 'card_declined',
  decline_code: 'generic_decline',
  message: 'Your card was declined.',
};

const declines: Record<string, CardDecline> = {
  pm_card_chargeDeclined: genericDecline,
  pm_card_visa_chargeDeclined: genericDecline,
  pm_card_chargeDeclinedInsufficientFunds: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  pm_card_chargeDeclinedLostCard: {
    code: 'card_declined',
    decline_code: 'lost_card',
    message: 'Your card was declined.',
  },
  pm_card_chargeDeclinedExpiredCard: {
    code: 'expired_card',
    decline_code: 'expired_card',
    message: 'Your card has expired.',
  },
};

/** Cards that need 3-D Secure: off-session they fail, on-session they wait for the customer. */
const authenticationRequired = new Set(['pm_card_authenticationRequired', 'pm_card_threeDSecure2Required']);

export function declineFor(paymentMethod: string): CardDecline | undefined {
  return Object.hasOwn(declines, paymentMethod) ? declines[paymentMethod] : undefined;
}

export function needsAuthentication(paymentMethod: string): boolean {
  return authenticationRequired.has(paymentMethod);
}

export const authenticationDecline: CardDecline = {
  code: 'authentication_required',
  decline_code: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
};
