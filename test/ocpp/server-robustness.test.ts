import { WebSocket } from 'ws';
import { OcppError } from '../../ocpp/server';
import { Fixture, PASSWORDS, startFixture } from './fixture';
import { RawClient, waitFor } from './helpers';

const HEARTBEAT = '[2,"after","Heartbeat",{}]';

describe('OCPP server survives hostile charge points', () => {
  let fx: Fixture;

  beforeAll(async () => {
    fx = await startFixture({ pingIntervalMs: 150, maxQueuedCalls: 5 });
  });
  afterAll(async () => {
    await fx.server.close();
  });

  const connect = (identity = 'CP1', options = {}) =>
    RawClient.connect(fx.endpoint(identity), { password: PASSWORDS[identity], ...options });

  it('closes a connection that sends a 1 MB frame with 1009 and keeps serving', async () => {
    const big = await connect();
    big.ws.send(`[2,"big","DataTransfer",{"vendorId":"x","data":"${'x'.repeat(1024 * 1024)}"}]`);
    expect((await big.closed).code).toBe(1009);
    expect(fx.handlers.DataTransfer).not.toHaveBeenCalled();

    const cp = await connect();
    expect(await cp.exchange(HEARTBEAT)).toEqual([3, 'after', { currentTime: expect.any(String) }]);
    await cp.close();
  });

  it('answers a burst of garbage and still answers a valid call on the same connection', async () => {
    const cp = await connect();
    const garbage = [
      '',
      'null',
      '42',
      '[',
      ']]]',
      '[2]',
      '[2,null,null,null]',
      '[4,"x"]',
      '[3,"x",{"a":1},9]',
      '[99,"x","Heartbeat",{}]',
      '[2,"x","__proto__",{}]',
      '[2,"x","constructor",{}]',
      '[2,"x","Heartbeat",{"__proto__":{"polluted":true}}]',
      `[2,"x","Authorize",{"idTag":${'['.repeat(5000)}${']'.repeat(5000)}}]`,
      '['.repeat(50_000),
      '\u0000\u0001\u0002',
      `[2,"x","${'A'.repeat(60_000)}",{}]`,
    ];
    for (let round = 0; round < 20; round += 1) {
      for (const text of garbage) cp.ws.send(text);
      cp.ws.send(Buffer.from([0, 1, 2, 3]), { binary: true });
    }
    cp.ws.send(HEARTBEAT);
    let reply: unknown;
    let errors = 0;
    do {
      reply = await cp.next(5000);
      if (Array.isArray(reply) && reply[0] === 4) errors += 1;
    } while (!(Array.isArray(reply) && reply[1] === 'after'));
    expect(reply).toEqual([3, 'after', { currentTime: expect.any(String) }]);
    expect(errors).toBeGreaterThanOrEqual(20 * 10);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(cp.ws.readyState).toBe(WebSocket.OPEN);
    await cp.close();
  });

  it('survives invalid UTF-8 in a text frame (ws closes it with 1007)', async () => {
    const bad = await connect();
    bad.ws.send(Buffer.from([0x5b, 0xff, 0xfe, 0x5d]), { binary: false });
    expect((await bad.closed).code).toBe(1007);
    const cp = await connect();
    expect(await cp.exchange(HEARTBEAT)).toEqual([3, 'after', { currentTime: expect.any(String) }]);
    await cp.close();
  });

  it('refuses calls beyond the queue bound instead of buffering them', async () => {
    const cp = await connect();
    for (let i = 0; i < 8; i += 1)
      cp.ws.send(`[2,"q${i}","DiagnosticsStatusNotification",{"status":"Idle"}]`);
    const first = await cp.next(5000);
    // Five fit in the queue; the next three are refused at once, before the first handler times out.
    expect(first).toEqual([4, 'q5', 'GenericError', expect.any(String), {}]);
    expect(await cp.next()).toEqual([4, 'q6', 'GenericError', expect.any(String), {}]);
    expect(await cp.next()).toEqual([4, 'q7', 'GenericError', expect.any(String), {}]);
    await cp.close();
  });

  it('replaces an older connection for the same identity', async () => {
    const first = await connect('CP2');
    const second = await connect('CP2');
    expect((await first.closed).code).toBe(1000);
    // Wait until the server has handled the old socket's close: it must not unregister the new one.
    const oldClosedOnServer = () =>
      fx.logs.some(
        (e) => e.msg === 'charge point disconnected' && e.fields.identity === 'CP2' && e.fields.code === 1000,
      );
    await waitFor(oldClosedOnServer);
    expect(fx.server.isConnected('CP2')).toBe(true);
    expect(fx.server.connections()).toBe(1);
    expect(await second.exchange(HEARTBEAT)).toEqual([3, 'after', { currentTime: expect.any(String) }]);
    await second.close();
    await waitFor(() => !fx.server.isConnected('CP2'));
    expect(fx.server.connections()).toBe(0);
  });

  it('drops a connection that stops answering pings', async () => {
    const dead = await connect('CP1', { autoPong: false });
    const alive = await connect('CP2');
    const closed = await dead.closed;
    expect(closed.code).toBe(1006);
    await waitFor(() => !fx.server.isConnected('CP1'));
    expect(fx.logs).toContainEqual(
      expect.objectContaining({ msg: 'charge point missed a pong; dropping the connection' }),
    );
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect(await alive.exchange(HEARTBEAT)).toEqual([3, 'after', { currentTime: expect.any(String) }]);
    await alive.close();
  });
});

describe('sendCall', () => {
  let fx: Fixture;
  let cp: RawClient;

  beforeAll(async () => {
    fx = await startFixture({ pingIntervalMs: 0 });
  });
  afterAll(async () => {
    await fx.server.close();
  });
  beforeEach(async () => {
    cp = await RawClient.connect(fx.endpoint('CP1'), { password: PASSWORDS.CP1 });
  });
  afterEach(async () => {
    await cp.close();
  });

  it('correlates the CALLRESULT by message id', async () => {
    const result = fx.server.sendCall(
      'CP1',
      'ChangeAvailability',
      { connectorId: 0, type: 'Inoperative' },
      2000,
    );
    const call = (await cp.next()) as [number, string, string, object];
    expect(call).toEqual([
      2,
      expect.any(String),
      'ChangeAvailability',
      { connectorId: 0, type: 'Inoperative' },
    ]);
    cp.ws.send(JSON.stringify([3, 'some-other-id', { status: 'Rejected' }]));
    cp.ws.send(JSON.stringify([3, call[1], { status: 'Scheduled' }]));
    await expect(result).resolves.toEqual({ status: 'Scheduled' });
  });

  it('rejects with the OcppError of a CALLERROR', async () => {
    const result = fx.server.sendCall('CP1', 'Reset', { type: 'Hard' }, 2000);
    const call = (await cp.next()) as [number, string];
    cp.ws.send(JSON.stringify([4, call[1], 'NotSupported', 'no reset here', {}]));
    await expect(result).rejects.toMatchObject({ code: 'NotSupported', message: 'no reset here' });
    await expect(result).rejects.toBeInstanceOf(OcppError);
  });

  it('rejects an answer that breaks the .conf schema', async () => {
    const result = fx.server.sendCall('CP1', 'Reset', { type: 'Hard' }, 2000);
    const call = (await cp.next()) as [number, string];
    cp.ws.send(JSON.stringify([3, call[1], { status: 'Maybe' }]));
    await expect(result).rejects.toMatchObject({ code: 'PropertyConstraintViolation' });
  });

  it('refuses to send an invalid request and times out unanswered calls', async () => {
    await expect(fx.server.sendCall('CP1', 'Reset', { type: 'Sideways' }, 2000)).rejects.toMatchObject({
      code: 'PropertyConstraintViolation',
    });
    await expect(fx.server.sendCall('CP1', 'Reset', { type: 'Soft' }, 100)).rejects.toThrow(/timed out/);
    await cp.next();
  });

  it('sends one CALL at a time per connection', async () => {
    const a = fx.server.sendCall('CP1', 'Reset', { type: 'Soft' }, 2000);
    const b = fx.server.sendCall('CP1', 'ClearCache', {}, 2000);
    const first = (await cp.next()) as [number, string, string];
    expect(first[2]).toBe('Reset');
    await expect(cp.next(150)).rejects.toThrow(/no frame/);
    cp.ws.send(JSON.stringify([3, first[1], { status: 'Accepted' }]));
    const second = (await cp.next()) as [number, string, string];
    expect(second[2]).toBe('ClearCache');
    cp.ws.send(JSON.stringify([3, second[1], { status: 'Accepted' }]));
    await expect(Promise.all([a, b])).resolves.toEqual([{ status: 'Accepted' }, { status: 'Accepted' }]);
  });

  it('rejects for a charge point that is not connected, or that disconnects', async () => {
    await expect(fx.server.sendCall('CP2', 'Reset', { type: 'Soft' })).rejects.toThrow(/not connected/);
    const result = fx.server.sendCall('CP1', 'Reset', { type: 'Soft' }, 5000);
    await cp.next();
    cp.ws.terminate();
    await expect(result).rejects.toThrow(/closed/);
  });
});

describe('startOcppServer', () => {
  it('refuses a handler map keyed by an action a charge point cannot send', async () => {
    await expect(startFixture({ handlers: { Bootnotification: async () => ({}) } })).rejects.toThrow(
      /Bootnotification/,
    );
  });

  it('closes its connections on close()', async () => {
    const fx = await startFixture();
    const cp = await RawClient.connect(fx.endpoint('CP1'), { password: PASSWORDS.CP1 });
    await Promise.all([fx.server.close(), fx.server.close()]);
    expect((await cp.closed).code).toBe(1001);
    expect(fx.server.connections()).toBe(0);
    await expect(RawClient.connect(fx.endpoint('CP1'), { password: PASSWORDS.CP1 })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it('exports OcppError with code and details', () => {
    const err = new OcppError('GenericError', 'x', { a: 1 });
    expect([err.code, err.message, err.details, err instanceof Error]).toEqual([
      'GenericError',
      'x',
      { a: 1 },
      true,
    ]);
  });
});
