import { Fixture, PASSWORDS, startFixture } from './fixture';
import { basic, RawClient, upgradeStatus } from './helpers';

describe('OCPP server refuses bad upgrades before the WebSocket exists', () => {
  let fx: Fixture;

  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.server.close();
  });
  beforeEach(() => {
    jest.clearAllMocks();
    fx.logs.length = 0;
  });

  function refusalLogged(status: number): boolean {
    return fx.logs.some(
      (e) => e.level === 'warn' && e.msg === 'charge point connection refused' && e.fields.status === status,
    );
  }

  it('answers 401 for an unknown identity, as for a wrong password, and logs it', async () => {
    expect(await upgradeStatus(fx.endpoint('NOPE'), ['ocpp1.6'], basic('NOPE', 'whatever'))).toBe(401);
    expect(fx.authenticate).toHaveBeenCalledWith('NOPE', 'whatever');
    expect(refusalLogged(401)).toBe(true);
    expect(fx.server.connections()).toBe(0);
  });

  it('answers 401 for a wrong password and logs it', async () => {
    expect(await upgradeStatus(fx.endpoint('CP1'), ['ocpp1.6'], basic('CP1', 'wrong'))).toBe(401);
    expect(refusalLogged(401)).toBe(true);
  });

  it('answers 401 when a password is required but none is sent', async () => {
    expect(await upgradeStatus(fx.endpoint('CP1'), ['ocpp1.6'])).toBe(401);
    expect(fx.authenticate).toHaveBeenCalledWith('CP1', undefined);
  });

  it('answers 401 when the Basic username is not the identity, without asking the authenticator', async () => {
    expect(await upgradeStatus(fx.endpoint('CP1'), ['ocpp1.6'], basic('CP2', PASSWORDS.CP2!))).toBe(401);
    expect(await upgradeStatus(fx.endpoint('CP1'), ['ocpp1.6'], { authorization: 'Bearer abc' })).toBe(401);
    expect(fx.authenticate).not.toHaveBeenCalled();
  });

  it('refuses with 400 when ocpp1.6 is not offered', async () => {
    expect(await upgradeStatus(fx.endpoint('CP1'), [], basic('CP1', PASSWORDS.CP1!))).toBe(400);
    expect(await upgradeStatus(fx.endpoint('CP1'), ['ocpp2.0.1'], basic('CP1', PASSWORDS.CP1!))).toBe(400);
    expect(fx.authenticate).not.toHaveBeenCalled();
    expect(refusalLogged(400)).toBe(true);
  });

  it('refuses paths outside the route and identities over 48 characters', async () => {
    expect(await upgradeStatus(`${fx.server.url}-admin/CP1`, ['ocpp1.6'])).toBe(404);
    expect(await upgradeStatus(fx.endpoint('x'.repeat(49)), ['ocpp1.6'])).toBe(400);
    expect(fx.authenticate).not.toHaveBeenCalled();
  });

  it('answers 500 when the authenticator throws', async () => {
    fx.authenticate.mockRejectedValueOnce(new Error('database down'));
    expect(await upgradeStatus(fx.endpoint('CP1'), ['ocpp1.6'], basic('CP1', PASSWORDS.CP1!))).toBe(500);
  });

  it('accepts ocpp1.6 among several offered protocols and a URL-encoded identity without password', async () => {
    const cp = await RawClient.connect(fx.endpoint('CP 3/é'), { protocols: ['ocpp2.0.1', 'ocpp1.6'] });
    expect(cp.ws.protocol).toBe('ocpp1.6');
    expect(fx.authenticate).toHaveBeenCalledWith('CP 3/é', undefined);
    expect(await cp.exchange('[2,"m1","Heartbeat",{}]')).toEqual([
      3,
      'm1',
      { currentTime: expect.any(String) },
    ]);
    expect(fx.handlers.Heartbeat.mock.calls[0][1].chargePoint.identity).toBe('CP 3/é');
    await cp.close();
  });

  it('answers a plain HTTP request with 426', async () => {
    const res = await fetch(fx.server.url.replace('ws:', 'http:') + '/CP1');
    expect(res.status).toBe(426);
  });
});
