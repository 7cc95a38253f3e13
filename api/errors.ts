// Stripe-style error types: the client can branch on `type` and `code` and show `message`; `param` names the
// offending field so a form can highlight it.
export type ErrorType =
  'invalid_request_error' | 'authentication_error' | 'permission_error' | 'card_error' | 'api_error';

export interface ErrorBody {
  error: { type: ErrorType; code: string; message: string; param: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: { type: this.type, code: this.code, message: this.message, param: this.param } };
  }
}

export const invalidParam = (param: string, message: string): ApiError =>
  new ApiError(400, 'invalid_request_error', 'parameter_invalid', `${param} ${message}`, param);

export const missingParam = (param: string): ApiError =>
  new ApiError(400, 'invalid_request_error', 'parameter_missing', `${param} is required`, param);

export const unknownParam = (param: string): ApiError =>
  new ApiError(400, 'invalid_request_error', 'parameter_unknown', `${param} is not a known parameter`, param);

/** Another organization's object answers exactly like a missing one, so ids reveal nothing across tenants. */
export const resourceMissing = (what: string, id: string, param: string | null = null): ApiError =>
  new ApiError(404, 'invalid_request_error', 'resource_missing', `No such ${what}: '${id}'`, param);

export const alreadyExists = (param: string, message: string): ApiError =>
  new ApiError(409, 'invalid_request_error', 'resource_already_exists', message, param);

export const internalError = (): ApiError =>
  new ApiError(500, 'api_error', 'internal_error', 'An unexpected error occurred. Please retry later.');
