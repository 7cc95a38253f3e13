export { startFakeStripe, type FakeStripe, type FakeStripeOptions, type RecordedRequest } from './server';
export { type FailureRule } from './failure-injection';
export { type FakePaymentIntent, type PaymentIntentStatus } from './payment-intents';
export { type FakeRefund } from './refunds';
export { type FakeTransfer } from './transfers';
