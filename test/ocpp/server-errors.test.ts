import { Fixture, PASSWORDS, startFixture } from './fixture';
import { RawClient } from './helpers';

const now = () => new Date().toISOString();

describe('OCPP server answers bad CALLs with the 1.6 CALLERROR', () => {
  let fx: Fixture;
  let cp: RawClient;

  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.server.close();
  });
  beforeEach(async () => {
    cp = await RawClient.connect(fx.endpoint('CP1'), { password: PASSWORDS.CP1 });
    jest.clearAllMocks();
  });
  afterEach(async () => {
    await cp.close();
  });

  function handlerCalls(): number {
    return Object.values(fx.handlers).reduce((sum, fn) => sum + fn.mock.calls.length, 0);
  }

  it.each([
    ['malformed JSON', 'FormationViolation', '[2,"m1","Heartbeat",{', '-1'],
    ['a non-array frame', 'FormationViolation', '{"action":"Heartbeat"}', '-1'],
    ['an unknown message type', 'FormationViolation', '[7,"m1","Heartbeat",{}]', 'm1'],
    ['a CALL without payload', 'ProtocolError', '[2,"m1","Heartbeat"]', 'm1'],
    ['a 37-character id', 'FormationViolation', `[2,"${'i'.repeat(37)}","Heartbeat",{}]`, '-1'],
    ['an action OCPP 1.6 does not define', 'NotImplemented', '[2,"m1","TransactionEvent",{}]', 'm1'],
    [
      'a known action without a handler',
      'NotSupported',
      '[2,"m1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]',
      'm1',
    ],
    [
      'a central-system action sent by a charge point',
      'NotSupported',
      '[2,"m1","Reset",{"type":"Soft"}]',
      'm1',
    ],
    [
      'a missing required field',
      'OccurenceConstraintViolation',
      '[2,"m1","BootNotification",{"chargePointVendor":"ACME"}]',
      'm1',
    ],
    ['a wrong type', 'TypeConstraintViolation', '[2,"m1","Authorize",{"idTag":12345}]', 'm1'],
    [
      'a too-long idTag',
      'PropertyConstraintViolation',
      `[2,"m1","Authorize",{"idTag":"${'T'.repeat(21)}"}]`,
      'm1',
    ],
    ['an extra property', 'FormationViolation', '[2,"m1","Heartbeat",{"extra":1}]', 'm1'],
  ])('%s -> %s', async (_name, code, text, messageId) => {
    const reply = await cp.exchange(text);
    expect(reply).toEqual([4, messageId, code, expect.any(String), {}]);
    expect(handlerCalls()).toBe(0);
  });

  it('names the offending field in the description', async () => {
    const reply = await cp.exchange(`[2,"m1","Authorize",{"idTag":"${'T'.repeat(21)}"}]`);
    expect(reply).toEqual([
      4,
      'm1',
      'PropertyConstraintViolation',
      '/idTag: must NOT have more than 20 characters',
      {},
    ]);
    expect(fx.handlers.Authorize).not.toHaveBeenCalled();
  });

  it('runs the handler for a valid call', async () => {
    expect(await cp.exchange('[2,"m1","Authorize",{"idTag":"TAG1"}]')).toEqual([
      3,
      'm1',
      { idTagInfo: { status: 'Accepted' } },
    ]);
    expect(fx.handlers.Authorize).toHaveBeenCalledTimes(1);
  });

  it('refuses a binary frame with a CALLERROR', async () => {
    cp.ws.send(Buffer.from('[2,"m1","Heartbeat",{}]'), { binary: true });
    expect(await cp.next()).toEqual([4, '-1', 'FormationViolation', expect.stringMatching(/binary/i), {}]);
    expect(fx.handlers.Heartbeat).not.toHaveBeenCalled();
  });

  it('turns a thrown error into InternalError without leaking its message, and logs it', async () => {
    const reply = (await cp.exchange('[2,"m1","DataTransfer",{"vendorId":"acme"}]')) as unknown[];
    expect(reply).toEqual([4, 'm1', 'InternalError', expect.any(String), {}]);
    expect(JSON.stringify(reply)).not.toMatch(/hunter2|ECONNREFUSED|at /);
    expect(fx.handlers.DataTransfer).toHaveBeenCalledTimes(1);
    expect(fx.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'handler failed',
        fields: expect.objectContaining({ action: 'DataTransfer' }),
      }),
    );
  });

  it('turns an invalid handler response into InternalError', async () => {
    const reply = await cp.exchange(
      `[2,"m1","StartTransaction",{"connectorId":1,"idTag":"TAG1","meterStart":0,"timestamp":"${now()}"}]`,
    );
    expect(reply).toEqual([4, 'm1', 'InternalError', expect.any(String), {}]);
    expect(fx.handlers.StartTransaction).toHaveBeenCalledTimes(1);
    expect(fx.logs).toContainEqual(expect.objectContaining({ msg: 'handler returned an invalid response' }));
  });

  it('answers an OcppError with its own code, message and details', async () => {
    const reply = await cp.exchange(
      `[2,"m1","StopTransaction",{"transactionId":9,"meterStop":10,"timestamp":"${now()}"}]`,
    );
    expect(reply).toEqual([
      4,
      'm1',
      'SecurityError',
      'Transaction belongs to another charge point',
      { transactionId: 9 },
    ]);
  });

  it('answers InternalError when a handler times out, and aborts its signal', async () => {
    const reply = await cp.exchange('[2,"m1","DiagnosticsStatusNotification",{"status":"Idle"}]');
    expect(reply).toEqual([4, 'm1', 'InternalError', expect.any(String), {}]);
    const ctx = fx.handlers.DiagnosticsStatusNotification.mock.calls[0][1];
    expect(ctx.signal.aborted).toBe(true);
    expect(fx.logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'handler timed out' }));
  });

  it('processes pipelined calls one at a time, in order', async () => {
    const events: string[] = [];
    const slowThenFast = async (payload: unknown) => {
      const { idTag } = payload as { idTag: string };
      events.push(`start ${idTag}`);
      await new Promise((resolve) => setTimeout(resolve, idTag === 'A' ? 80 : 1));
      events.push(`end ${idTag}`);
      return { idTagInfo: { status: idTag === 'A' ? 'Blocked' : 'Accepted' } };
    };
    fx.handlers.Authorize.mockImplementationOnce(slowThenFast).mockImplementationOnce(slowThenFast);
    cp.ws.send('[2,"a","Authorize",{"idTag":"A"}]');
    cp.ws.send('[2,"b","Authorize",{"idTag":"B"}]');
    expect(await cp.next()).toEqual([3, 'a', { idTagInfo: { status: 'Blocked' } }]);
    expect(await cp.next()).toEqual([3, 'b', { idTagInfo: { status: 'Accepted' } }]);
    expect(events).toEqual(['start A', 'end A', 'start B', 'end B']);
  });

  it('logs and ignores CALLRESULT and CALLERROR frames it did not ask for', async () => {
    cp.ws.send('[3,"nobody-asked",{}]');
    cp.ws.send('[4,"nobody-asked","GenericError","x",{}]');
    cp.ws.send('[3,"broken"]');
    expect(await cp.exchange('[2,"m2","Heartbeat",{}]')).toEqual([
      3,
      'm2',
      { currentTime: expect.any(String) },
    ]);
    expect(fx.logs).toContainEqual(
      expect.objectContaining({ msg: 'CALLRESULT for no pending call; ignored' }),
    );
    expect(fx.logs).toContainEqual(
      expect.objectContaining({ msg: 'CALLERROR for no pending call; ignored' }),
    );
    expect(fx.logs).toContainEqual(expect.objectContaining({ msg: 'malformed response frame; ignored' }));
  });
});
