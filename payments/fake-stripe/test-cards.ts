// Stripe's documented test PaymentMethods that make a confirmation fail, so flows written against real
// Stripe test mode behave the same against the fake, plus a few fake-only ones (marked below) for what Stripe
// test mode has no card for: a hold that cannot be raised, an increment that is declined, a card that holds
// but declines a later off-session charge. Any other `pm_...` id authorizes successfully as a Visa.

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

const insufficientFunds: CardDecline = {
  code: 'card_declined',
  decline_code: 'insufficient_funds',
  message: 'Your card has insufficient funds.',
};

export const authenticationDecline: CardDecline = {
  code: 'authentication_required',
  decline_code: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
};

const declines: Record<string, CardDecline> = {
  pm_card_chargeDeclined: genericDecline,
  pm_card_visa_chargeDeclined: genericDecline,
  // Stripe: attaching to a customer succeeds, every charge fails.
  pm_card_chargeCustomerFail: genericDecline,
  pm_card_chargeDeclinedInsufficientFunds: insufficientFunds,
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

/** Fake-only: the hold succeeds, a later off-session charge (automatic capture) does not. */
const offSessionDeclines: Record<string, CardDecline> = {
  pm_card_chargeDeclinedOffSession: insufficientFunds,
  pm_card_authenticationRequiredOffSession: authenticationDecline,
};

/** Fake-only: the hold succeeds and offers incremental authorization, every increment is declined. */
const incrementDeclines: Record<string, CardDecline> = {
  pm_card_visa_increment_declined: insufficientFunds,
};

/** Cards that need 3-D Secure: off-session they fail, on-session they wait for the customer. */
const authenticationRequired = new Set(['pm_card_authenticationRequired', 'pm_card_threeDSecure2Required']);

export function declineFor(paymentMethod: string): CardDecline | undefined {
  return Object.hasOwn(declines, paymentMethod) ? declines[paymentMethod] : undefined;
}

export function offSessionDeclineFor(paymentMethod: string): CardDecline | undefined {
  return Object.hasOwn(offSessionDeclines, paymentMethod) ? offSessionDeclines[paymentMethod] : undefined;
}

export function incrementDeclineFor(paymentMethod: string): CardDecline | undefined {
  return Object.hasOwn(incrementDeclines, paymentMethod) ? incrementDeclines[paymentMethod] : undefined;
}

export function needsAuthentication(paymentMethod: string): boolean {
  return authenticationRequired.has(paymentMethod);
}

/** A decline by Stripe's decline code, for scripted declines (see DeclineRule). */
export function declineByCode(declineCode = 'generic_decline'): CardDecline {
  if (declineCode === 'authentication_required') return authenticationDecline;
  if (declineCode === 'insufficient_funds') return insufficientFunds;
  if (declineCode === 'expired_card') return declines.pm_card_chargeDeclinedExpiredCard;
  return { code: 'card_declined', decline_code: declineCode, message: 'Your card was declined.' };
}

export interface CardProfile {
  brand: string;
  last4: string;
  funding: 'credit' | 'debit' | 'prepaid';
  country: string;
  /** Whether the network and issuer offer incremental authorization for this card. */
  incrementalAuthorization: boolean;
  multicapture: boolean;
}

const visa: CardProfile = {
  brand: 'visa',
  last4: '4242',
  funding: 'credit',
  country: 'US',
  incrementalAuthorization: true,
  multicapture: true,
};

// Brand and last four digits as Stripe's test PaymentMethods report them (https://docs.stripe.com/testing):
// the card numbers behind them are 4242 4242 4242 4242, 5555 5555 5555 4444, 3782 822463 10005, and so on.
// Incremental authorization and multicapture are offered on Visa, Mastercard, Amex and Discover only.
const notGrowing = { incrementalAuthorization: false, multicapture: false } as const;
const profiles: Record<string, Partial<CardProfile>> = {
  pm_card_visa_debit: { last4: '5556', funding: 'debit' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444' },
  pm_card_mastercard_debit: { brand: 'mastercard', last4: '8210', funding: 'debit' },
  pm_card_mastercard_prepaid: { brand: 'mastercard', last4: '5100', funding: 'prepaid' },
  pm_card_amex: { brand: 'amex', last4: '0005' },
  pm_card_discover: { brand: 'discover', last4: '1117' },
  pm_card_diners: { brand: 'diners', last4: '0004', ...notGrowing },
  pm_card_jcb: { brand: 'jcb', last4: '0505', country: 'JP', ...notGrowing },
  pm_card_unionpay: { brand: 'unionpay', last4: '0005', country: 'CN', ...notGrowing },
  // Stripe's declining test cards (the charge they leave behind names the card too).
  pm_card_chargeDeclined: { last4: '0002' },
  pm_card_visa_chargeDeclined: { last4: '0002' },
  pm_card_chargeCustomerFail: { last4: '0341' },
  pm_card_chargeDeclinedInsufficientFunds: { last4: '9995' },
  pm_card_chargeDeclinedLostCard: { last4: '9987' },
  pm_card_chargeDeclinedExpiredCard: { last4: '0069' },
  pm_card_authenticationRequired: { last4: '3184' },
  pm_card_threeDSecure2Required: { last4: '3220' },
  // Fake-only: a card whose issuer offers neither incremental authorization nor multicapture.
  pm_card_visa_no_increment: { last4: '1881', ...notGrowing },
  pm_card_visa_increment_declined: { last4: '0077' },
  pm_card_chargeDeclinedOffSession: { last4: '0341' },
  pm_card_authenticationRequiredOffSession: { last4: '3155' },
};

/** What a charge on this card reports in `payment_method_details.card`, and the features it offers. */
export function cardProfile(paymentMethod: string): CardProfile {
  return { ...visa, ...(Object.hasOwn(profiles, paymentMethod) ? profiles[paymentMethod] : {}) };
}
