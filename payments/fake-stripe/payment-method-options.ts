// The PaymentIntent parameters that shape a hold: `payment_method_options[card]` (what the hold asks the
// card network for) and `setup_future_usage` (saving the method for later off-session charges).
import { type FormObject, isFormObject } from './form-body';
import { optionalEnum, optionalHash } from './params';
import { invalidParam } from './stripe-error';

type Request = 'if_available' | 'never';
const requestValues: readonly Request[] = ['if_available', 'never'];

export interface CardOptions {
  request_three_d_secure: 'automatic' | 'any' | 'challenge';
  request_incremental_authorization?: Request;
  request_multicapture?: Request;
  request_overcapture?: Request;
}

export type SetupFutureUsage = 'off_session' | 'on_session';

// Card options Stripe takes that the fake accepts without modelling them.
const cardKeys = new Set([
  'request_incremental_authorization',
  'request_multicapture',
  'request_overcapture',
  'request_extended_authorization',
  'request_three_d_secure',
  'capture_method',
  'setup_future_usage',
  'mandate_options',
  'network',
  'installments',
  'cvc_token',
  'moto',
  'require_cvc_recollection',
  'statement_descriptor_suffix_kana',
  'statement_descriptor_suffix_kanji',
]);

/** `payment_method_options[card]`, checked; other payment method types' options are accepted as given. */
export function cardOptions(params: FormObject): CardOptions {
  const options = params.payment_method_options;
  if (options === undefined || options === '') return { request_three_d_secure: 'automatic' };
  if (!isFormObject(options)) {
    throw invalidParam('Invalid hash for payment_method_options', { param: 'payment_method_options' });
  }
  const card = optionalHash(options, 'card', cardKeys);
  if (!card) return { request_three_d_secure: 'automatic' };
  const read = (key: keyof CardOptions) => {
    try {
      return optionalEnum(card, key, requestValues);
    } catch {
      throw invalidParam(`Invalid payment_method_options[card][${key}]: must be one of if_available, never`, {
        param: `payment_method_options[card][${key}]`,
      });
    }
  };
  const incremental = read('request_incremental_authorization');
  const multicapture = read('request_multicapture');
  const overcapture = read('request_overcapture');
  const threeDSecure = optionalEnum(card, 'request_three_d_secure', [
    'automatic',
    'any',
    'challenge',
  ] as const);
  return {
    request_three_d_secure: threeDSecure ?? 'automatic',
    ...(incremental ? { request_incremental_authorization: incremental } : {}),
    ...(multicapture ? { request_multicapture: multicapture } : {}),
    ...(overcapture ? { request_overcapture: overcapture } : {}),
  };
}

export function setupFutureUsage(params: FormObject): SetupFutureUsage | undefined {
  return optionalEnum(params, 'setup_future_usage', ['off_session', 'on_session'] as const);
}
