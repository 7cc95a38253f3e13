// Frame generators for fuzz.test.ts: what a buggy or hostile charge point might put on the wire.
import fc from 'fast-check';
import { CENTRAL_SYSTEM_ACTIONS, isKnownAction } from '../../ocpp/actions';
import { OCPP_ERROR_CODES } from '../../ocpp/errors';

// The server's maxPayload is 64 KiB; a bigger frame closes the connection by design (1009, covered in
// server-robustness.test.ts), so generated frames stay below this.
export const MAX_FRAME_BYTES = 60_000;
export const OCPP_MAX_ID = 36;

/** A raw JSON token spliced into a frame: numbers JSON.stringify cannot write (1e309, -0) and deep nesting. */
class Raw {
  constructor(readonly text: string) {}
}

function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Raw ? `\u0000raw${raws.push(v.text) - 1}\u0000` : v,
  );
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]);
}

export type Kind =
  | 'valid'
  | 'mutated'
  | 'unknownAction'
  | 'unsupportedAction'
  | 'malformedCall'
  | 'badId'
  | 'duplicateId'
  | 'badTypeId'
  | 'response'
  | 'nonArray'
  | 'truncated'
  | 'randomText'
  | 'binary';

export interface FrameSpec {
  kind: Kind;
  action?: string;
  binary?: boolean;
  /** duplicateId: reuse the id of the frame this many places back. */
  back?: number;
  build(id: string): string;
}

// ---- building blocks ----------------------------------------------------------------------------

const ENCODED_BYTES: Array<[string, number]> = [
  ['x', 1],
  ['é', 2],
  ['€', 3],
  ['😀', 4],
  ['\u0000', 6],
  ['"', 2],
  ['\\', 2],
  ['\u2028', 3],
];
/** Up to 40 KB once encoded, so a frame carrying one stays below MAX_FRAME_BYTES. */
const hugeString = fc
  .tuple(fc.constantFrom(...ENCODED_BYTES), fc.integer({ min: 1_000, max: 40_000 }))
  .map(([[char, bytes], size]) => char.repeat(Math.floor(size / bytes)));

const oddString = fc.constantFrom(
  '',
  ' ',
  'null',
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '0x10',
  '-0',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  '\u0000',
  '\u202e\u202d',
  '\ud800',
  '\udfff\ud800',
  '😀',
  'Z\u0351\u0300\u0301a\u0352lgo',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '%s%n%x',
  '${process.exit()}',
  '2024-02-30T25:61:61Z',
  '\r\n\t',
);

const junkString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  oddString,
);

const NUMBER_TOKENS = [
  '1e309',
  '-1e309',
  '1E+400',
  '-0',
  '-0.0',
  '1e-400',
  '0.5',
  '2e0',
  '1.0',
  '-1',
  '9007199254740993',
  '123456789012345678901234567890',
  '4294967296',
];
const oddNumber = fc.oneof(
  fc.constantFrom(...NUMBER_TOKENS).map((text) => new Raw(text)),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', '0x1F', '1_000'),
  fc.double(),
  fc.integer(),
);

const deepNest = fc
  .tuple(fc.integer({ min: 10, max: 3_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? new Raw('['.repeat(depth) + ']'.repeat(depth))
      : new Raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  );

const junk: fc.Arbitrary<unknown> = fc.oneof(
  junkString,
  oddNumber,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  deepNest,
);
/** Junk for a spot used once per frame: a huge string there still leaves the frame below the limit. */
const junkOrHuge = fc.oneof({ arbitrary: junk, weight: 6 }, { arbitrary: hugeString, weight: 1 });

const junkKey = fc.oneof(
  junkString,
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'idtag', 'IdTag'),
);

/** An object built with defineProperty so "__proto__" becomes an own key, as JSON.parse makes it. */
function withKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...base };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

const junkObject = fc
  .array(fc.tuple(junkKey, junk), { maxLength: 5 })
  .map((entries) => entries.reduce((obj, [k, v]) => withKey(obj, k, v), {} as Record<string, unknown>));

// ---- valid payloads of charge-point actions -------------------------------------------------------

const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
const idTag = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 });
const timestamp = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const int = fc.integer({ min: -1_000_000, max: 2_000_000_000 });

const sampledValue = fc.record(
  {
    value: fc.string({ maxLength: 12 }),
    measurand: fc.constantFrom('Energy.Active.Import.Register', 'Power.Active.Import', 'SoC'),
    unit: fc.constantFrom('Wh', 'kWh', 'W', 'Percent'),
  },
  { requiredKeys: ['value'] },
);

const VALID_PAYLOADS: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  Heartbeat: fc.constant({}),
  BootNotification: fc.record(
    {
      chargePointVendor: text(20),
      chargePointModel: text(20),
      chargePointSerialNumber: text(25),
      firmwareVersion: text(50),
      iccid: text(20),
      meterType: text(25),
    },
    { requiredKeys: ['chargePointVendor', 'chargePointModel'] },
  ),
  Authorize: fc.record({ idTag }),
  StartTransaction: fc.record(
    { connectorId: fc.integer({ min: 0, max: 10 }), idTag, meterStart: int, timestamp, reservationId: int },
    { requiredKeys: ['connectorId', 'idTag', 'meterStart', 'timestamp'] },
  ),
  StopTransaction: fc.record(
    {
      transactionId: int,
      meterStop: int,
      timestamp,
      idTag,
      reason: fc.constantFrom('EVDisconnected', 'Local', 'Remote', 'PowerLoss'),
      transactionData: fc.array(
        fc.record({ timestamp, sampledValue: fc.array(sampledValue, { maxLength: 3 }) }),
        {
          maxLength: 2,
        },
      ),
    },
    { requiredKeys: ['transactionId', 'meterStop', 'timestamp'] },
  ),
  DataTransfer: fc.record(
    { vendorId: text(255), messageId: text(50), data: fc.string({ maxLength: 200 }) },
    { requiredKeys: ['vendorId'] },
  ),
  StatusNotification: fc.record(
    {
      connectorId: fc.integer({ min: 0, max: 10 }),
      errorCode: fc.constantFrom('NoError', 'GroundFailure', 'OtherError'),
      status: fc.constantFrom('Available', 'Charging', 'Faulted'),
      info: text(50),
      timestamp,
    },
    { requiredKeys: ['connectorId', 'errorCode', 'status'] },
  ),
  MeterValues: fc.record(
    {
      connectorId: fc.integer({ min: 0, max: 10 }),
      transactionId: int,
      meterValue: fc.array(fc.record({ timestamp, sampledValue: fc.array(sampledValue, { maxLength: 3 }) }), {
        minLength: 1,
        maxLength: 3,
      }),
    },
    { requiredKeys: ['connectorId', 'meterValue'] },
  ),
  FirmwareStatusNotification: fc.record({ status: fc.constantFrom('Idle', 'Downloading', 'Installed') }),
  SecurityEventNotification: fc.record({ type: text(50), timestamp }),
  // Its fixture handler hangs until the 300 ms handler timeout: only its mutated (always invalid, so
  // refused before the handler) form is generated, and one valid call per connection in round 0.
  DiagnosticsStatusNotification: fc.record({ status: fc.constantFrom('Idle', 'Uploaded', 'Uploading') }),
};
const FAST_ACTIONS = Object.keys(VALID_PAYLOADS).filter((a) => a !== 'DiagnosticsStatusNotification');

/** What the fixture's stub handlers make of a valid call of each action. */
export const VALID_ANSWER: Record<string, (id: string) => unknown[]> = {
  Heartbeat: (id) => [3, id, { currentTime: expect.any(String) }],
  BootNotification: (id) => [3, id, { status: 'Accepted', currentTime: expect.any(String), interval: 300 }],
  Authorize: (id) => [3, id, { idTagInfo: { status: 'Accepted' } }],
  // The stub returns a string transactionId: the server must not put that on the wire.
  StartTransaction: (id) => [4, id, 'InternalError', expect.any(String), {}],
  StopTransaction: (id) => [
    4,
    id,
    'SecurityError',
    'Transaction belongs to another charge point',
    { transactionId: 9 },
  ],
  DataTransfer: (id) => [4, id, 'InternalError', expect.stringMatching(/^Central system failed/), {}],
  DiagnosticsStatusNotification: (id) => [4, id, 'InternalError', expect.any(String), {}],
  // No handler in the fixture.
  StatusNotification: (id) => [4, id, 'NotSupported', expect.any(String), {}],
  MeterValues: (id) => [4, id, 'NotSupported', expect.any(String), {}],
  FirmwareStatusNotification: (id) => [4, id, 'NotSupported', expect.any(String), {}],
  SecurityEventNotification: (id) => [4, id, 'NotSupported', expect.any(String), {}],
};

export const call = (id: string, action: string, payload: unknown) => toJson([2, id, action, payload]);

const validCall = fc
  .constantFrom(...FAST_ACTIONS)
  .chain((action) => VALID_PAYLOADS[action].map((payload) => ({ action, payload })));

// ---- mutations ------------------------------------------------------------------------------------

type Mutation = (payload: Record<string, unknown>) => unknown;

function keyAt(payload: Record<string, unknown>, n: number, prefer?: (v: unknown) => boolean): string {
  const keys = Object.keys(payload);
  const preferred = prefer ? keys.filter((k) => prefer(payload[k])) : [];
  const pool = preferred.length > 0 ? preferred : keys;
  return pool.length > 0 ? pool[n % pool.length] : 'idTag';
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Wrong type or value for a field of the schema.
  fc.tuple(fc.nat(), junkOrHuge).map(
    ([n, v]): Mutation =>
      (p) =>
        withKey(p, keyAt(p, n), v),
  ),
  // An out-of-range or unrepresentable number, in a numeric field when there is one.
  fc.tuple(fc.nat(), oddNumber).map(
    ([n, v]): Mutation =>
      (p) =>
        withKey(
          p,
          keyAt(p, n, (x) => typeof x === 'number'),
          v,
        ),
  ),
  // A required (or optional) field missing.
  fc.nat().map((n): Mutation => (p) => {
    const copy = { ...p };
    delete copy[keyAt(p, n)];
    return copy;
  }),
  // A field the schema does not define.
  fc.tuple(junkKey, junkOrHuge).map(
    ([k, v]): Mutation =>
      (p) =>
        withKey(p, k, v),
  ),
  // Oversized strings and deep nesting where a short value belongs.
  fc.tuple(fc.nat(), hugeString).map(
    ([n, v]): Mutation =>
      (p) =>
        withKey(p, keyAt(p, n), v),
  ),
  fc.tuple(fc.nat(), deepNest).map(
    ([n, v]): Mutation =>
      (p) =>
        withKey(p, keyAt(p, n), v),
  ),
  // A different object altogether.
  junkObject.map(
    (obj): Mutation =>
      () =>
        obj,
  ),
  // A nested field broken (a timestamp or a sampled value inside an array).
  fc
    .tuple(junkOrHuge, fc.constantFrom('timestamp', 'sampledValue', 'value', 'extra'))
    .map(([v, field]): Mutation => (p) => {
      const listKey = Array.isArray(p.meterValue) ? 'meterValue' : 'transactionData';
      const list = Array.isArray(p[listKey]) ? (p[listKey] as Record<string, unknown>[]) : [];
      const [first = {}, ...rest] = list;
      return withKey(p, listKey, [withKey(first, field, v), ...rest]);
    }),
);

// ---- frame arbitraries ----------------------------------------------------------------------------

const validFrame = validCall.map(({ action, payload }): FrameSpec => ({
  kind: 'valid',
  action,
  build: (id) => call(id, action, payload),
}));

const mutatedFrame = fc
  .constantFrom(...Object.keys(VALID_PAYLOADS))
  .chain((action) => fc.tuple(fc.constant(action), VALID_PAYLOADS[action], mutation))
  .map(([action, payload, mutate]): FrameSpec => {
    const mutated = mutate(payload);
    return { kind: 'mutated', action, build: (id) => call(id, action, mutated) };
  });

const unknownAction = fc.oneof(
  junkString,
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'heartbeat',
    'HEARTBEAT',
    'Heartbeat ',
    ' Heartbeat',
    'Heartbeat\u0000',
    'TransactionEvent',
    'NotifyReport',
    'Heartbeat.req',
    'urn:Heartbeat.req',
    '#/definitions',
    '../Heartbeat',
  ),
  hugeString,
);
const unknownActionFrame = fc
  .tuple(
    unknownAction.filter((a) => a.length > 0 && !isKnownAction(a)),
    fc.oneof(fc.constant({}), junkObject),
  )
  .map(([action, payload]): FrameSpec => ({
    kind: 'unknownAction',
    build: (id) => call(id, action, payload),
  }));

// Known 1.6 actions the fixture has no handler for, or that only the central system may send
// (DataTransfer goes both ways and has a handler).
const unsupportedActionFrame = fc
  .tuple(
    fc.constantFrom(
      ...CENTRAL_SYSTEM_ACTIONS.filter((a) => a !== 'DataTransfer'),
      'LogStatusNotification',
      'SignCertificate',
    ),
    fc.oneof(fc.constant({}), junkObject),
  )
  .map(([action, payload]): FrameSpec => ({
    kind: 'unsupportedAction',
    build: (id) => call(id, action, payload),
  }));

const malformedCallFrame = fc
  .tuple(validCall, junk, fc.constantFrom(0, 1, 2, 3, 4, 5))
  .map(([{ action, payload }, j, shape]): FrameSpec => {
    const shapes: Array<(id: string) => unknown[]> = [
      (id) => [2, id, action],
      (id) => [2, id, action, payload, j],
      (id) => [2, id, action, Array.isArray(j) || j === null || typeof j !== 'object' ? j : [j]],
      (id) => [2, id, typeof j === 'string' ? '' : j, payload],
      (id) => [2, id],
      (id) => [2, id, '', {}],
    ];
    return { kind: 'malformedCall', build: (id) => toJson(shapes[shape](id)) };
  });

const badId = fc.oneof(
  fc.constant(''),
  fc.integer({ min: OCPP_MAX_ID + 1, max: 5_000 }).map((n) => 'i'.repeat(n)),
  fc.constant('😀'.repeat(OCPP_MAX_ID / 2 + 1)),
  // Exactly at the limit: still usable, so it is answered with that id.
  fc.constant('L'.repeat(OCPP_MAX_ID)),
  fc.constant('😀'.repeat(OCPP_MAX_ID / 2)),
  oddNumber,
  fc.constantFrom(null, true, false, [], {}, ['id'], { id: 'x' }),
  deepNest,
);
const badIdFrame = fc.tuple(validCall, badId).map(([{ action, payload }, id]): FrameSpec => ({
  kind: 'badId',
  build: () => toJson([2, id, action, payload]),
}));

const duplicateIdFrame = fc
  .tuple(validCall, fc.integer({ min: 1, max: 20 }))
  .map(([{ action, payload }, back]): FrameSpec => ({
    kind: 'duplicateId',
    action,
    back,
    build: (id) => call(id, action, payload),
  }));

const badTypeIdFrame = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(0, 1, 5, 6, 99, -1, -2, 4294967298, 2.5, '2', 'CALL', null, true, [], {}, [2]),
      fc.constantFrom('-0', '2.0', '2e0', '3.0', '1e309', '-1e309', '0.0').map((t) => new Raw(t)),
    ),
    validCall,
  )
  .map(([typeId, { action, payload }]): FrameSpec => ({
    kind: 'badTypeId',
    build: (id) => toJson([typeId, id, action, payload]),
  }));

// CALLRESULT and CALLERROR frames for calls the server never made, well formed or not.
const responseFrame = fc
  .tuple(
    fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7),
    fc.oneof(fc.constant({}), junkObject),
    fc.oneof(fc.constantFrom(...OCPP_ERROR_CODES), junkString),
    junk,
    fc.oneof(fc.constant(3), fc.constant(4), fc.constant(new Raw('3.0')), fc.constant(new Raw('4e0'))),
    fc.option(badId, { freq: 4 }),
  )
  .map(([shape, payload, code, j, type, oddId]): FrameSpec => {
    const shapes: Array<(id: unknown) => unknown[]> = [
      (id) => [3, id, payload],
      (id) => [4, id, code, typeof j === 'string' ? j : 'x', payload],
      (id) => [type, id],
      (id) => [type, id, j],
      (id) => [type, id, payload, j],
      (id) => [4, id, code, j],
      (id) => [4, id, j, j, j],
      (id) => [4, id, code, 'x', payload, j],
    ];
    return { kind: 'response', build: (id) => toJson(shapes[shape](oddId ?? id)) };
  });

const nonArrayFrame = fc
  .oneof(
    junkObject,
    junkString,
    oddNumber,
    fc.constantFrom(null, true),
    validCall.map(({ action, payload }) => ({ messageTypeId: 2, action, payload })),
  )
  .map((value): FrameSpec => ({ kind: 'nonArray', build: () => toJson(value) }));

const truncatedFrame = fc
  .tuple(validCall, fc.nat(), fc.constantFrom('', ']', '}', ',', ']]', ',]', '\u0000', ' garbage'))
  .map(([{ action, payload }, cut, tail]): FrameSpec => ({
    kind: 'truncated',
    build: (id) => {
      const whole = call(id, action, payload);
      return whole.slice(0, cut % whole.length) + tail;
    },
  }));

const randomTextFrame = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'grapheme', maxLength: 50 }),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 6 }).map((arr) => JSON.stringify(arr)),
    fc.constantFrom('', ' ', '[]', '[[]]', '[2]', '[2,', '[2,"a"', 'null', '\ufeff[2,"a","Heartbeat",{}]'),
  )
  .map((value): FrameSpec => ({ kind: 'randomText', build: () => value }));

const binaryFrame = validCall.map(({ action, payload }): FrameSpec => ({
  kind: 'binary',
  binary: true,
  build: (id) => call(id, action, payload),
}));

export const frameArb: fc.Arbitrary<FrameSpec> = fc.oneof(
  { arbitrary: validFrame, weight: 20 },
  { arbitrary: mutatedFrame, weight: 25 },
  { arbitrary: unknownActionFrame, weight: 5 },
  { arbitrary: unsupportedActionFrame, weight: 3 },
  { arbitrary: malformedCallFrame, weight: 6 },
  { arbitrary: badIdFrame, weight: 6 },
  { arbitrary: duplicateIdFrame, weight: 4 },
  { arbitrary: badTypeIdFrame, weight: 5 },
  { arbitrary: responseFrame, weight: 8 },
  { arbitrary: nonArrayFrame, weight: 4 },
  { arbitrary: truncatedFrame, weight: 6 },
  { arbitrary: randomTextFrame, weight: 6 },
  { arbitrary: binaryFrame, weight: 1 },
);
