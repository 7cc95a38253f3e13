import { RPCClient } from 'ocpp-rpc';
import { Fixture, PASSWORDS, startFixture } from './fixture';

type RpcOptions = ConstructorParameters<typeof RPCClient>[0];

// The strict ocpp-rpc client validates what it sends and what we answer against its own copy of the
// OCA schemas, so a round trip here is an independent check of our frames and responses.
function strictClient(fx: Fixture, identity: string, password: string | undefined): RPCClient {
  return new RPCClient({
    endpoint: fx.server.url,
    identity,
    protocols: ['ocpp1.6'],
    strictMode: true,
    password,
    reconnect: false,
  } as RpcOptions);
}

describe('OCPP server with the strict ocpp-rpc client', () => {
  let fx: Fixture;
  let client: RPCClient;

  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.server.close();
  });
  beforeEach(async () => {
    client = strictClient(fx, 'CP1', PASSWORDS.CP1);
    await client.connect();
  });
  afterEach(async () => {
    await client.close({ code: 1000 });
  });

  it('answers BootNotification and Heartbeat', async () => {
    expect(client.protocol).toBe('ocpp1.6');
    const boot = (await client.call('BootNotification', {
      chargePointVendor: 'ACME',
      chargePointModel: 'Fast-50',
    })) as Record<string, unknown>;
    expect(boot).toMatchObject({ status: 'Accepted', interval: 300 });
    const beat = (await client.call('Heartbeat', {})) as Record<string, unknown>;
    expect(typeof beat.currentTime).toBe('string');

    expect(fx.handlers.BootNotification).toHaveBeenCalledTimes(1);
    const [payload, ctx] = fx.handlers.BootNotification.mock.calls[0];
    expect(payload).toEqual({ chargePointVendor: 'ACME', chargePointModel: 'Fast-50' });
    expect(ctx.chargePoint).toEqual({
      id: 'cp_CP1',
      identity: 'CP1',
      organizationId: 'org_1',
      tariffId: 'tar_1',
    });
    expect(typeof ctx.messageId).toBe('string');
    expect(fx.server.connections()).toBe(1);
    // Every message is logged with the charge point it came from.
    const answered = fx.logs.filter((l) => l.msg === 'call answered' && l.fields.identity === 'CP1');
    expect(answered.map((l) => l.fields.action)).toEqual(
      expect.arrayContaining(['BootNotification', 'Heartbeat']),
    );
    expect(answered[0].fields).toMatchObject({ chargePointId: 'cp_CP1', messageId: expect.any(String) });
  });

  it('delivers 1.6 error codes the client understands', async () => {
    await expect(
      client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }),
    ).rejects.toMatchObject({ rpcErrorCode: 'NotSupported' });
  });

  it('carries a central-system CALL to the client and back', async () => {
    client.handle('Reset', async ({ params }) => {
      expect(params).toEqual({ type: 'Soft' });
      return { status: 'Accepted' };
    });
    await expect(fx.server.sendCall('CP1', 'Reset', { type: 'Soft' }, 2000)).resolves.toEqual({
      status: 'Accepted',
    });
  });
});
