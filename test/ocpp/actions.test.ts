import {
  assertChargePointHandlers,
  CENTRAL_SYSTEM_ACTIONS,
  CHARGE_POINT_ACTIONS,
  isChargePointAction,
  routeAction,
  SECURITY_CHARGE_POINT_ACTIONS,
} from '../../ocpp/actions';
import { schemaActions } from '../../ocpp/validator';

describe('action lists', () => {
  it('list the ten charge-point-initiated actions of OCPP 1.6', () => {
    expect([...CHARGE_POINT_ACTIONS].sort()).toEqual([
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
    ]);
  });

  it('cover exactly the actions of the vendored schemas', () => {
    const listed = new Set([
      ...CHARGE_POINT_ACTIONS,
      ...SECURITY_CHARGE_POINT_ACTIONS,
      ...CENTRAL_SYSTEM_ACTIONS,
    ]);
    expect([...listed].sort()).toEqual(schemaActions().sort());
  });

  it('treat central-system actions as not charge-point actions, except DataTransfer', () => {
    expect(isChargePointAction('Reset')).toBe(false);
    expect(isChargePointAction('DataTransfer')).toBe(true);
    expect(isChargePointAction('SecurityEventNotification')).toBe(true);
  });
});

describe('routeAction', () => {
  const heartbeat = () => Promise.resolve({});
  const handlers = { Heartbeat: heartbeat };

  it('routes a handled action to its handler', () => {
    expect(routeAction('Heartbeat', handlers)).toEqual({ ok: true, handler: heartbeat });
  });

  it('answers NotSupported for a 1.6 action without a handler', () => {
    expect(routeAction('StatusNotification', handlers)).toMatchObject({ ok: false, code: 'NotSupported' });
  });

  it('uses only own handlers of the map, never inherited properties', () => {
    const inherited = Object.create({ StatusNotification: heartbeat }) as Record<string, typeof heartbeat>;
    expect(routeAction('StatusNotification', inherited)).toMatchObject({ ok: false, code: 'NotSupported' });
  });

  it('answers NotSupported for a central-system action sent by a charge point', () => {
    expect(routeAction('Reset', { ...handlers, Reset: heartbeat })).toMatchObject({
      ok: false,
      code: 'NotSupported',
    });
  });

  it('answers NotImplemented for an action OCPP 1.6 does not define', () => {
    expect(routeAction('TransactionEvent', handlers)).toMatchObject({ ok: false, code: 'NotImplemented' });
    expect(routeAction('constructor', handlers)).toMatchObject({ ok: false, code: 'NotImplemented' });
    expect(routeAction('heartbeat', handlers)).toMatchObject({ ok: false, code: 'NotImplemented' });
  });

  it('keeps a long action name out of the description', () => {
    const route = routeAction('X'.repeat(5000), handlers);
    expect(!route.ok && route.description.length).toBeLessThan(150);
  });
});

describe('assertChargePointHandlers', () => {
  it('refuses a handler map with a misspelt or central-system action', () => {
    expect(() => assertChargePointHandlers({ Bootnotification: () => undefined })).toThrow(
      /Bootnotification/,
    );
    expect(() => assertChargePointHandlers({ Reset: () => undefined })).toThrow(/Reset/);
    expect(() => assertChargePointHandlers({ BootNotification: () => undefined })).not.toThrow();
  });
});
