import { Fixture, PASSWORDS, startFixture } from './fixture';
import { RawClient, sleep } from './helpers';

// A charge point in a firmware loop must not crowd out the others: beyond its call rate it gets
// GenericError (it keeps the message and retries), and the connection stays up.

describe('per-connection call rate', () => {
  let fx: Fixture;

  beforeAll(async () => {
    fx = await startFixture({ maxCallsPerSecond: 5 });
  });
  afterAll(async () => {
    await fx.server.close();
  });

  it('answers a burst of twice the rate, refuses the rest, and serves again after a pause', async () => {
    const cp = await RawClient.connect(fx.endpoint('CP1'), { password: PASSWORDS.CP1 });
    const handled = fx.handlers.Heartbeat.mock.calls.length;
    for (let i = 0; i < 15; i += 1) cp.ws.send(`[2,"h${i}","Heartbeat",{}]`);
    const answers: unknown[][] = [];
    for (let i = 0; i < 15; i += 1) answers.push((await cp.next()) as unknown[]);
    const refused = answers.filter((f) => f[0] === 4);
    // The bucket holds 10; at 5/s at most one more token can refill while the burst arrives.
    expect(answers.length - refused.length).toBeGreaterThanOrEqual(10);
    expect(answers.length - refused.length).toBeLessThanOrEqual(11);
    expect(refused[0]).toEqual([
      4,
      expect.any(String),
      'GenericError',
      expect.stringContaining('at most 5 per second'),
      {},
    ]);
    expect(fx.handlers.Heartbeat.mock.calls.length - handled).toBe(answers.length - refused.length);
    expect(fx.logs.some((l) => l.msg === 'call rate exceeded; refusing')).toBe(true);

    await sleep(1000);
    cp.ws.send('[2,"later","Heartbeat",{}]');
    expect(await cp.next()).toEqual([3, 'later', { currentTime: expect.any(String) }]);
    await cp.close();
  });

  it('counts each connection on its own', async () => {
    const noisy = await RawClient.connect(fx.endpoint('CP1'), { password: PASSWORDS.CP1 });
    const quiet = await RawClient.connect(fx.endpoint('CP2'), { password: PASSWORDS.CP2 });
    for (let i = 0; i < 30; i += 1) noisy.ws.send(`[2,"n${i}","Heartbeat",{}]`);
    quiet.ws.send('[2,"q","Heartbeat",{}]');
    expect(await quiet.next()).toEqual([3, 'q', { currentTime: expect.any(String) }]);
    await noisy.close();
    await quiet.close();
  });
});
