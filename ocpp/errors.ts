// OCPP 1.6 CALLERROR codes, spelled as in the OCPP-J 1.6 specification (note the single r in
// "Occurence"). 2.0.1 renamed and added codes; a 1.6 charge point may not understand those.
export const OCPP_ERROR_CODES = [
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
] as const;

export type OcppErrorCode = (typeof OCPP_ERROR_CODES)[number];

export function isOcppErrorCode(value: unknown): value is OcppErrorCode {
  return typeof value === 'string' && (OCPP_ERROR_CODES as readonly string[]).includes(value);
}

// Thrown by handlers to answer a CALL with a specific CALLERROR; any other error becomes InternalError.
export class OcppError extends Error {
  constructor(
    public code: OcppErrorCode,
    message: string,
    public details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'OcppError';
  }
}

/** A central-system CALL that got no answer: the charge point is not connected, went away, or is silent. */
export class ChargePointUnavailable extends Error {
  constructor(
    public reason: 'offline' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'ChargePointUnavailable';
  }
}
