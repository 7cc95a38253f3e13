import { RPCClient } from 'ocpp-rpc';
import type { ChargePointLink } from '../../api/deps';
import { allocateTransaction } from '../../db/repositories/sessions';
import { createAuthenticator } from '../../ocpp/billing/authenticate';
import { ChargePointUnavailable, OcppServer, startOcppServer } from '../../ocpp/server';
import type { Server } from 'node:http';
import { createApp } from '../../api/app';
import { CommandRelay, createCommandRelay } from '../../ocpp/billing/command-relay';
import {
  captureLogger,
  createSiteFor,
  expectError,
  Harness,
  listen,
  request,
  startHarness,
  Tenant,
} from './helpers';

// Operator commands travel from the API through the real OCPP server to a strict ocpp-rpc charge point.

type RpcOptions = ConstructorParameters<typeof RPCClient>[0];
const IDENTITY = 'CP-CMD-1';

let h: Harness;
let acme: Tenant;
let ocpp: OcppServer;
let client: RPCClient;
let chargePointId: string;
let relay: CommandRelay;
let other: { url: string; server: Server };
const received: { action: string; params: unknown }[] = [];
let answer: (action: string) => Promise<object>;

const bridge: { server?: OcppServer } = {};
const link: ChargePointLink = {
  isConnected: (identity) => bridge.server?.isConnected(identity) ?? false,
  sendCall: (identity, action, payload, timeoutMs) =>
    bridge.server
      ? bridge.server.sendCall(identity, action, payload, timeoutMs)
      : Promise.reject(new ChargePointUnavailable('offline', 'no bridge')),
};

const ACTIONS = [
  'RemoteStartTransaction',
  'RemoteStopTransaction',
  'ChangeAvailability',
  'TriggerMessage',
  'GetConfiguration',
  'ChangeConfiguration',
];

beforeAll(async () => {
  h = await startHarness('commands', { chargePoints: link, commandTimeoutMs: 500 });
  acme = await h.tenant('Acme');
  const { site } = await createSiteFor(acme);
  chargePointId = (
    await acme.call('POST', '/charge-points', {
      body: { identity: IDENTITY, site_id: site.id, hold_amount: '40' },
    })
  ).body.id;
  const user = await acme.call('POST', '/users', {
    body: { email: 'cmd@example.com', name: 'C', user_type: 'public' },
  });
  await acme.call('POST', '/id-tags', { body: { id_tag: 'TAG-CMD', user_id: user.body.id, type: 'rfid' } });

  ocpp = await startOcppServer({
    host: '127.0.0.1',
    port: 0,
    authenticate: createAuthenticator(h.db),
    handlers: {},
    log: captureLogger().log,
  });
  bridge.server = ocpp;
  // The same bridge serves queued commands, as it would for an API instance without a bridge of its own.
  relay = createCommandRelay(h.db, ocpp, { log: captureLogger().log, sweepMs: 100 });
  await relay.start();
  const app = createApp({
    db: h.db,
    runningCost: async () => undefined,
    log: captureLogger().log,
    commandTimeoutMs: 1000,
  });
  other = await listen(app);
  client = new RPCClient({
    endpoint: ocpp.url,
    identity: IDENTITY,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
  } as RpcOptions);
  for (const action of ACTIONS) {
    client.handle(action, async ({ params }) => {
      received.push({ action, params });
      return answer(action);
    });
  }
  await client.connect();
});

afterAll(async () => {
  await client.close({ code: 1000 });
  await relay.close();
  other.server.closeAllConnections();
  await new Promise((r) => other.server.close(r));
  await ocpp.close();
  await h.close();
});

beforeEach(() => {
  received.length = 0;
  answer = async () => ({ status: 'Accepted' });
});

const command = (path: string, body?: object) =>
  acme.call('POST', `/charge-points/${chargePointId}/${path}`, { body });

describe('central-system commands from the API', () => {
  it('shows the charge point as connected', async () => {
    const cp = await acme.call('GET', `/charge-points/${chargePointId}`);
    expect(cp.body.connected).toBe(true);
  });

  it("starts a transaction remotely with the driver's tag and answers the charge point's status", async () => {
    const res = await command('remote-start', { id_tag: 'tag-cmd', connector_id: 2 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      object: 'charge_point_command',
      charge_point_id: chargePointId,
      action: 'RemoteStartTransaction',
      status: 'Accepted',
      response: { status: 'Accepted' },
      // This API has no payment provider: nothing is held before the start (tested end to end in e2e).
      pre_authorization: null,
    });
    expect(received).toEqual([
      { action: 'RemoteStartTransaction', params: { idTag: 'TAG-CMD', connectorId: 2 } },
    ]);

    answer = async () => ({ status: 'Rejected' });
    expect((await command('remote-start', { id_tag: 'TAG-CMD' })).body.status).toBe('Rejected');
  });

  it('changes availability, triggers a message and reads and sets billing configuration', async () => {
    expect((await command('availability', { connector_id: 1, type: 'Inoperative' })).body.status).toBe(
      'Accepted',
    );
    expect(
      (await command('trigger', { requested_message: 'MeterValues', connector_id: 1 })).body.status,
    ).toBe('Accepted');
    expect(
      (await command('configuration', { key: 'MeterValueSampleInterval', value: '60' })).body.status,
    ).toBe('Accepted');
    answer = async () => ({
      configurationKey: [{ key: 'MeterValueSampleInterval', readonly: false, value: '60' }],
      unknownKey: ['Nope'],
    });
    const read = await acme.call(
      'GET',
      `/charge-points/${chargePointId}/configuration?keys=MeterValueSampleInterval,Nope`,
    );
    expect(read.body).toMatchObject({
      action: 'GetConfiguration',
      status: null,
      response: { unknownKey: ['Nope'] },
    });
    expect(received.map((r) => r.params)).toEqual([
      { connectorId: 1, type: 'Inoperative' },
      { requestedMessage: 'MeterValues', connectorId: 1 },
      { key: 'MeterValueSampleInterval', value: '60' },
      { key: ['MeterValueSampleInterval', 'Nope'] },
    ]);
  });

  it('stops a live session at its charge point, and refuses a finished one', async () => {
    const session = await allocateTransaction(h.db, {
      organizationId: acme.org.id,
      chargePointId,
      chargePointIdentity: IDENTITY,
      connectorId: 1,
      idTag: 'TAG-CMD',
      meterStartWh: '0',
      startedAt: new Date(),
      workflowIdFor: (tx) => `charging-session:${IDENTITY}:${tx}`,
    });
    const res = await acme.call('POST', `/sessions/${session.id}/stop`);
    expect(res.body).toMatchObject({ action: 'RemoteStopTransaction', status: 'Accepted' });
    expect(received).toEqual([
      { action: 'RemoteStopTransaction', params: { transactionId: session.transaction_id } },
    ]);
    await h.db('charging_sessions').where({ id: session.id }).update({ status: 'completed' });
    expectError(await acme.call('POST', `/sessions/${session.id}/stop`), 409, null, 'session_not_active');
  });

  describe('refuses bad input naming the field, sending nothing', () => {
    it.each([
      ['remote-start', {}, 'id_tag'],
      ['remote-start', { id_tag: 'UNKNOWN-TAG' }, 'id_tag'],
      ['remote-start', { id_tag: 'TAG-CMD', connector_id: 0 }, 'connector_id'],
      ['remote-stop', { transaction_id: 'x' }, 'transaction_id'],
      ['remote-stop', {}, 'transaction_id'],
      ['availability', { type: 'Sleeping' }, 'type'],
      ['trigger', { requested_message: 'StartTransaction' }, 'requested_message'],
      ['configuration', { key: 'AuthorizationKey', value: 'x' }, 'key'],
      ['configuration', { key: 'MeterValueSampleInterval', value: '-5' }, 'value'],
      ['configuration', { key: 'MeterValuesSampledData', value: 'Energy; DROP' }, 'value'],
      ['availability', { type: 'Operative', force: true }, 'force'],
    ])('%s %j', async (path, body, param) => {
      const res = await command(path, body);
      expect([400, 404]).toContain(res.status);
      expect(res.body.error.param).toBe(param);
      expect(received).toEqual([]);
    });

    it('an unknown charge point', async () => {
      expectError(
        await acme.call('POST', '/charge-points/cp_nope/trigger', {
          body: { requested_message: 'Heartbeat' },
        }),
        404,
        null,
        'resource_missing',
      );
    });
  });

  it('answers 502 with the OCPP error when the charge point answers a CALLERROR', async () => {
    answer = async () => {
      throw new Error('firmware bug');
    };
    expectError(
      await command('trigger', { requested_message: 'Heartbeat' }),
      502,
      null,
      'charge_point_error',
    );
  });

  it('answers 504 when the charge point does not answer in time', async () => {
    answer = () => new Promise((resolve) => setTimeout(() => resolve({ status: 'Accepted' }), 1500));
    expectError(
      await command('trigger', { requested_message: 'Heartbeat' }),
      504,
      null,
      'charge_point_timeout',
    );
  });

  it('reaches a charge point held by another process through the command queue', async () => {
    const viaQueue = (path: string, body: object) =>
      request(`${other.url}/api/v1/billing`, 'POST', `/charge-points/${chargePointId}/${path}`, {
        key: acme.key,
        body,
      });
    answer = async () => ({ status: 'Rejected' });
    const res = await viaQueue('trigger', { requested_message: 'Heartbeat' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      action: 'TriggerMessage',
      status: 'Rejected',
      response: { status: 'Rejected' },
    });
    expect(received).toEqual([{ action: 'TriggerMessage', params: { requestedMessage: 'Heartbeat' } }]);
    answer = async () => {
      throw new Error('firmware bug');
    };
    expectError(
      await viaQueue('trigger', { requested_message: 'Heartbeat' }),
      502,
      null,
      'charge_point_error',
    );
  });

  it('answers 409 when the charge point is offline, and shows it disconnected', async () => {
    await client.close({ code: 1000 });
    for (let i = 0; i < 50 && ocpp.isConnected(IDENTITY); i++) await new Promise((r) => setTimeout(r, 20));
    expect((await acme.call('GET', `/charge-points/${chargePointId}`)).body.connected).toBe(false);
    expectError(await command('remote-stop', { transaction_id: 1 }), 409, null, 'charge_point_offline');
    // No bridge holds it: the queued command is withdrawn at the deadline, never sent later.
    const queued = await request(
      `${other.url}/api/v1/billing`,
      'POST',
      `/charge-points/${chargePointId}/remote-stop`,
      {
        key: acme.key,
        body: { transaction_id: 2 },
      },
    );
    expectError(queued, 409, null, 'charge_point_offline');
    const left = await h
      .db('charge_point_commands')
      .where({ charge_point_id: chargePointId, status: 'pending' });
    expect(left).toEqual([]);
  });
});
