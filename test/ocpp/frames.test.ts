import {
  buildCall,
  buildCallError,
  buildCallResult,
  MAX_DESCRIPTION_LENGTH,
  parseFrame,
} from '../../ocpp/frames';

describe('parseFrame', () => {
  it('reads a CALL', () => {
    expect(parseFrame('[2,"m1","Heartbeat",{}]')).toEqual({
      kind: 'call',
      messageId: 'm1',
      action: 'Heartbeat',
      payload: {},
    });
  });

  it('reads a CALLRESULT and a CALLERROR', () => {
    expect(parseFrame('[3,"m2",{"status":"Accepted"}]')).toEqual({
      kind: 'result',
      messageId: 'm2',
      payload: { status: 'Accepted' },
    });
    expect(parseFrame('[4,"m3","NotSupported","no",{"a":1}]')).toEqual({
      kind: 'error',
      messageId: 'm3',
      code: 'NotSupported',
      description: 'no',
      details: { a: 1 },
    });
  });

  it.each([
    ['malformed JSON', '[2,"m1","Heartbeat",{]', '-1', 'FormationViolation', undefined],
    ['not an array', '{"a":1}', '-1', 'FormationViolation', undefined],
    ['a JSON string', '"hello"', '-1', 'FormationViolation', undefined],
    ['an empty array', '[]', '-1', 'FormationViolation', undefined],
    ['a string MessageTypeId', '["2","m1","Heartbeat",{}]', 'm1', 'FormationViolation', undefined],
    ['a fractional MessageTypeId', '[2.5,"m1","Heartbeat",{}]', 'm1', 'FormationViolation', undefined],
    ['a numeric id', '[2,17,"Heartbeat",{}]', '-1', 'FormationViolation', 2],
    ['an empty id', '[2,"","Heartbeat",{}]', '-1', 'FormationViolation', 2],
    ['a 37-character id', `[2,"${'a'.repeat(37)}","Heartbeat",{}]`, '-1', 'FormationViolation', 2],
    ['an unknown MessageTypeId', '[5,"m1","Heartbeat",{}]', 'm1', 'FormationViolation', 5],
    ['a CALL without action', '[2,"m1"]', 'm1', 'FormationViolation', 2],
    ['a numeric action', '[2,"m1",12,{}]', 'm1', 'FormationViolation', 2],
    ['a CALL without payload', '[2,"m1","Heartbeat"]', 'm1', 'ProtocolError', 2],
    ['a CALL with 5 elements', '[2,"m1","Heartbeat",{},{}]', 'm1', 'FormationViolation', 2],
    ['a CALL with an array payload', '[2,"m1","Heartbeat",[]]', 'm1', 'FormationViolation', 2],
    ['a CALL with a null payload', '[2,"m1","Heartbeat",null]', 'm1', 'FormationViolation', 2],
    ['a CALLRESULT without payload', '[3,"m1"]', 'm1', 'ProtocolError', 3],
    ['a CALLRESULT with a string payload', '[3,"m1","ok"]', 'm1', 'FormationViolation', 3],
    ['a CALLERROR without details', '[4,"m1","GenericError","x"]', 'm1', 'ProtocolError', 4],
    ['a CALLERROR with a numeric code', '[4,"m1",1,"x",{}]', 'm1', 'FormationViolation', 4],
    ['a CALLERROR with array details', '[4,"m1","GenericError","x",[]]', 'm1', 'FormationViolation', 4],
  ])('refuses %s', (_name, text, messageId, code, messageTypeId) => {
    const frame = parseFrame(text);
    expect(frame).toMatchObject({ kind: 'invalid', messageId, code });
    expect(frame.kind === 'invalid' && frame.messageTypeId).toBe(messageTypeId);
    expect(frame.kind === 'invalid' && frame.description.length).toBeGreaterThan(5);
  });

  it('accepts a 36-character id', () => {
    const id = 'a'.repeat(36);
    expect(parseFrame(`[2,"${id}","Heartbeat",{}]`)).toMatchObject({ kind: 'call', messageId: id });
  });

  it('does not throw on deeply nested input', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(() => parseFrame(deep)).not.toThrow();
    expect(parseFrame(deep)).toMatchObject({ kind: 'invalid', code: 'FormationViolation' });
  });
});

describe('builders', () => {
  it('builds CALL, CALLRESULT and CALLERROR arrays', () => {
    expect(JSON.parse(buildCall('c1', 'Reset', { type: 'Soft' }))).toEqual([
      2,
      'c1',
      'Reset',
      { type: 'Soft' },
    ]);
    expect(JSON.parse(buildCallResult('c1', { currentTime: 'x' }))).toEqual([3, 'c1', { currentTime: 'x' }]);
    expect(JSON.parse(buildCallError('c1', 'NotSupported', 'nope'))).toEqual([
      4,
      'c1',
      'NotSupported',
      'nope',
      {},
    ]);
    expect(JSON.parse(buildCallError('c1', 'GenericError', 'x', { a: 1 }))).toEqual([
      4,
      'c1',
      'GenericError',
      'x',
      { a: 1 },
    ]);
  });

  it('caps the description length', () => {
    const [, , , description] = JSON.parse(buildCallError('c1', 'NotImplemented', 'x'.repeat(10_000)));
    expect(description).toHaveLength(MAX_DESCRIPTION_LENGTH);
  });
});
