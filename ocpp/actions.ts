import { OcppErrorCode } from './errors';

// OCPP 1.6 edition 2, chapter 4 "Operations Initiated by Charge Point".
export const CHARGE_POINT_ACTIONS = [
  'Authorize',
  'BootNotification',
  'DataTransfer',
  'DiagnosticsStatusNotification',
  'FirmwareStatusNotification',
  'Heartbeat',
  'MeterValues',
  'StartTransaction',
  'StatusNotification',
  'StopTransaction',
] as const;

// Charge-point-initiated messages added by the OCPP 1.6 Security Whitepaper (edition 2); their schemas
// ship with the 1.6 set, so a charge point using security profiles may send them.
export const SECURITY_CHARGE_POINT_ACTIONS = [
  'LogStatusNotification',
  'SecurityEventNotification',
  'SignCertificate',
  'SignedFirmwareStatusNotification',
] as const;

// Chapter 5 "Operations Initiated by Central System" plus the whitepaper's; DataTransfer goes both ways.
export const CENTRAL_SYSTEM_ACTIONS = [
  'CancelReservation',
  'ChangeAvailability',
  'ChangeConfiguration',
  'ClearCache',
  'ClearChargingProfile',
  'DataTransfer',
  'GetCompositeSchedule',
  'GetConfiguration',
  'GetDiagnostics',
  'GetLocalListVersion',
  'RemoteStartTransaction',
  'RemoteStopTransaction',
  'ReserveNow',
  'Reset',
  'SendLocalList',
  'SetChargingProfile',
  'TriggerMessage',
  'UnlockConnector',
  'UpdateFirmware',
  'CertificateSigned',
  'DeleteCertificate',
  'ExtendedTriggerMessage',
  'GetInstalledCertificateIds',
  'GetLog',
  'InstallCertificate',
  'SignedUpdateFirmware',
] as const;

export type ChargePointAction =
  (typeof CHARGE_POINT_ACTIONS)[number] | (typeof SECURITY_CHARGE_POINT_ACTIONS)[number];

const chargePointActions = new Set<string>([...CHARGE_POINT_ACTIONS, ...SECURITY_CHARGE_POINT_ACTIONS]);
const knownActions = new Set<string>([...chargePointActions, ...CENTRAL_SYSTEM_ACTIONS]);

export function isChargePointAction(action: string): action is ChargePointAction {
  return chargePointActions.has(action);
}

export function isKnownAction(action: string): boolean {
  return knownActions.has(action);
}

export type ActionRoute<H> =
  | { ok: true; handler: H }
  | { ok: false; code: Extract<OcppErrorCode, 'NotImplemented' | 'NotSupported'>; description: string };

/**
 * OCPP-J 1.6: NotImplemented is "Requested Action is not known by receiver", NotSupported is
 * "recognized but not supported". A central-system action sent by a charge point (say Reset) is a
 * known 1.6 action we do not accept, so it is NotSupported too.
 */
export function routeAction<H>(action: string, handlers: Partial<Record<string, H>>): ActionRoute<H> {
  const shown = action.length > 64 ? `${action.slice(0, 64)}…` : action;
  if (!isKnownAction(action)) {
    return { ok: false, code: 'NotImplemented', description: `Action ${shown} is not an OCPP 1.6 action` };
  }
  // hasOwn, not a plain lookup: the map is an object and "constructor" must never resolve to a handler.
  const handler =
    isChargePointAction(action) && Object.hasOwn(handlers, action) ? handlers[action] : undefined;
  if (handler === undefined) {
    return {
      ok: false,
      code: 'NotSupported',
      description: `Action ${shown} is not supported by this central system`,
    };
  }
  return { ok: true, handler };
}

/** A misspelt key would silently turn an action into NotSupported, so refuse such a map at start-up. */
export function assertChargePointHandlers(handlers: object): void {
  const wrong = Object.keys(handlers).filter((key) => !isChargePointAction(key));
  if (wrong.length > 0) {
    throw new Error(`OCPP handlers for actions a charge point cannot send in OCPP 1.6: ${wrong.join(', ')}`);
  }
}
