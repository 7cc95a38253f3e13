import {
  describeValidationError,
  errorCodeForKeyword,
  hasSchema,
  schemaActions,
  validateRequest,
  validateResponse,
} from '../../ocpp/validator';

const now = '2026-11-23T10:00:00.000Z';

describe('validateRequest / validateResponse', () => {
  it('accepts valid 1.6 payloads', () => {
    expect(
      validateRequest('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X1' }),
    ).toEqual({
      ok: true,
    });
    expect(validateRequest('Heartbeat', {})).toEqual({ ok: true });
    expect(
      validateRequest('MeterValues', {
        connectorId: 1,
        transactionId: 7,
        meterValue: [
          { timestamp: now, sampledValue: [{ value: '123.4', measurand: 'Energy.Active.Import.Register' }] },
        ],
      }),
    ).toEqual({ ok: true });
    expect(
      validateResponse('BootNotification', { status: 'Accepted', currentTime: now, interval: 300 }),
    ).toEqual({
      ok: true,
    });
    expect(
      validateResponse('StartTransaction', { transactionId: 1, idTagInfo: { status: 'Accepted' } }),
    ).toEqual({
      ok: true,
    });
  });

  it('maps a missing required field to OccurenceConstraintViolation naming the field', () => {
    expect(validateRequest('BootNotification', { chargePointVendor: 'ACME' })).toEqual({
      ok: false,
      code: 'OccurenceConstraintViolation',
      description: '/chargePointModel: is required but missing',
    });
  });

  it('names nested fields with their full JSON pointer', () => {
    const result = validateRequest('MeterValues', {
      connectorId: 1,
      meterValue: [{ timestamp: now, sampledValue: [{}] }],
    });
    expect(result).toEqual({
      ok: false,
      code: 'OccurenceConstraintViolation',
      description: '/meterValue/0/sampledValue/0/value: is required but missing',
    });
  });

  it('maps minItems to OccurenceConstraintViolation', () => {
    // The only minItems in the 1.6 set (the OCA MeterValues schema does not bound meterValue).
    const result = validateResponse('GetInstalledCertificateIds', {
      status: 'Accepted',
      certificateHashData: [],
    });
    expect(result).toEqual({
      ok: false,
      code: 'OccurenceConstraintViolation',
      description: '/certificateHashData: must NOT have fewer than 1 items',
    });
  });

  it("resolves the schemas' internal $refs", () => {
    expect(validateResponse('GetInstalledCertificateIds', { status: 'Sometimes' })).toMatchObject({
      ok: false,
      code: 'PropertyConstraintViolation',
    });
  });

  it('maps a wrong type to TypeConstraintViolation', () => {
    expect(
      validateRequest('StatusNotification', { connectorId: '1', errorCode: 'NoError', status: 'Available' }),
    ).toEqual({ ok: false, code: 'TypeConstraintViolation', description: '/connectorId: must be integer' });
  });

  it('maps maxLength to PropertyConstraintViolation with the spec example wording', () => {
    expect(validateRequest('Authorize', { idTag: 'x'.repeat(21) })).toEqual({
      ok: false,
      code: 'PropertyConstraintViolation',
      description: '/idTag: must NOT have more than 20 characters',
    });
  });

  it('maps enum to PropertyConstraintViolation listing the allowed values', () => {
    const result = validateRequest('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Sleeping',
    });
    expect(result).toMatchObject({ ok: false, code: 'PropertyConstraintViolation' });
    expect(!result.ok && result.description).toMatch(
      /^\/status: must be one of Available, Preparing, Charging/,
    );
  });

  it('maps a bad date-time to PropertyConstraintViolation', () => {
    const result = validateRequest('StartTransaction', {
      connectorId: 1,
      idTag: 'TAG',
      meterStart: 0,
      timestamp: 'yesterday',
    });
    expect(result).toEqual({
      ok: false,
      code: 'PropertyConstraintViolation',
      description: '/timestamp: must match format "date-time"',
    });
  });

  it('requires a time zone in date-time (RFC 3339), as the 1.6 schemas say', () => {
    const base = { connectorId: 1, idTag: 'TAG', meterStart: 0 };
    expect(validateRequest('StartTransaction', { ...base, timestamp: '2026-11-23T10:00:00' }).ok).toBe(false);
    expect(validateRequest('StartTransaction', { ...base, timestamp: '2026-11-23T10:00:00+01:00' }).ok).toBe(
      true,
    );
  });

  it('maps multipleOf to PropertyConstraintViolation and tolerates floating-point error', () => {
    const profile = (limit: number) => ({
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 1,
        stackLevel: 0,
        chargingProfilePurpose: 'TxProfile',
        chargingProfileKind: 'Absolute',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] },
      },
    });
    expect(validateRequest('SetChargingProfile', profile(0.3))).toEqual({ ok: true });
    expect(validateRequest('SetChargingProfile', profile(16.15))).toEqual({
      ok: false,
      code: 'PropertyConstraintViolation',
      description:
        '/csChargingProfiles/chargingSchedule/chargingSchedulePeriod/0/limit: must be multiple of 0.1',
    });
  });

  it('maps an extra property to FormationViolation naming it', () => {
    expect(validateRequest('Heartbeat', { sneaky: true })).toEqual({
      ok: false,
      code: 'FormationViolation',
      description: '/sneaky: is not allowed (not defined by the OCPP 1.6 schema)',
    });
  });

  it('validates responses against the .conf schema', () => {
    expect(validateResponse('Heartbeat', {})).toEqual({
      ok: false,
      code: 'OccurenceConstraintViolation',
      description: '/currentTime: is required but missing',
    });
    expect(
      validateResponse('BootNotification', { status: 'Maybe', currentTime: now, interval: 1 }),
    ).toMatchObject({
      ok: false,
      code: 'PropertyConstraintViolation',
    });
  });

  it('answers NotImplemented for an action without a schema and never resolves pointers from the action', () => {
    expect(validateRequest('FlyToTheMoon', {})).toMatchObject({ ok: false, code: 'NotImplemented' });
    expect(
      validateRequest('DeleteCertificate.req#/definitions/HashAlgorithmEnumType', 'SHA256'),
    ).toMatchObject({
      ok: false,
      code: 'NotImplemented',
    });
    expect(validateRequest('constructor', {})).toMatchObject({ ok: false, code: 'NotImplemented' });
  });

  it('keeps descriptions short when a charge point sends a huge property name', () => {
    const result = validateRequest('Heartbeat', { ['k'.repeat(10_000)]: 1 });
    expect(!result.ok && result.description.length).toBeLessThan(150);
  });
});

describe('errorCodeForKeyword', () => {
  it.each([
    ['required', 'OccurenceConstraintViolation'],
    ['minItems', 'OccurenceConstraintViolation'],
    ['maxItems', 'OccurenceConstraintViolation'],
    ['type', 'TypeConstraintViolation'],
    ['enum', 'PropertyConstraintViolation'],
    ['maxLength', 'PropertyConstraintViolation'],
    ['minLength', 'PropertyConstraintViolation'],
    ['format', 'PropertyConstraintViolation'],
    ['pattern', 'PropertyConstraintViolation'],
    ['minimum', 'PropertyConstraintViolation'],
    ['maximum', 'PropertyConstraintViolation'],
    ['multipleOf', 'PropertyConstraintViolation'],
    ['additionalProperties', 'FormationViolation'],
    ['oneOf', 'FormationViolation'],
    ['uniqueItems', 'FormationViolation'],
    ['toString', 'FormationViolation'],
  ])('%s -> %s', (keyword, code) => {
    expect(errorCodeForKeyword(keyword)).toBe(code);
  });
});

describe('describeValidationError', () => {
  it('escapes JSON pointer characters in property names and labels the root', () => {
    expect(
      describeValidationError({
        keyword: 'required',
        instancePath: '',
        schemaPath: '#/required',
        params: { missingProperty: 'a/b~c' },
      }),
    ).toBe('/a~1b~0c: is required but missing');
    expect(
      describeValidationError({
        keyword: 'type',
        instancePath: '',
        schemaPath: '#/type',
        params: { type: 'object' },
        message: 'must be object',
      }),
    ).toBe('(payload): must be object');
  });
});

describe('schemas', () => {
  it('holds a request and a confirmation schema for every action', () => {
    const actions = schemaActions();
    expect(actions).toHaveLength(39);
    for (const action of actions) {
      expect([action, hasSchema(action, 'req'), hasSchema(action, 'conf')]).toEqual([action, true, true]);
    }
  });
});
