// Errors in Stripe's wire shape. The SDK picks its error class from the HTTP status and reads the fields
// below from `error`, so matching that shape is what makes the adapter's error mapping testable here.

export interface StripeErrorBody {
  type: string;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  charge?: string;
  doc_url?: string;
  payment_intent?: object;
}

export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /**
     * Stripe stores an idempotent result only once the endpoint has started executing; a request that
     * failed parameter validation is not stored, so the same key can be used again with fixed params.
     */
    readonly storeForIdempotency = true,
  ) {
    super(body.message);
  }
}

interface ErrorDetail {
  code?: string;
  param?: string;
  payment_intent?: object;
}

/** A request the endpoint refused before executing: bad or missing parameters. Not stored for replay. */
export function invalidParam(message: string, detail: ErrorDetail = {}): FakeStripeError {
  return new FakeStripeError(400, { type: 'invalid_request_error', message, ...detail }, false);
}

/** A refusal decided by the object's state (e.g. capturing twice); stored for idempotent replay. */
export function invalidState(message: string, detail: ErrorDetail = {}): FakeStripeError {
  return new FakeStripeError(400, { type: 'invalid_request_error', message, ...detail });
}

export function noSuchObject(kind: string, id: string, param: string): FakeStripeError {
  return new FakeStripeError(
    404,
    { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${kind}: '${id}'`, param },
    false,
  );
}

export function unrecognizedUrl(method: string, path: string): FakeStripeError {
  return new FakeStripeError(
    404,
    {
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs.`,
    },
    false,
  );
}
