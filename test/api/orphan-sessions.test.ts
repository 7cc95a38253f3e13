import { recordOrphanStop } from '../../db/repositories/orphanSessions';
import { createSiteFor, expectError, Harness, startHarness, tableCounts, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;
let orphanId: string;

beforeAll(async () => {
  h = await startHarness('orphans');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  const { site } = await createSiteFor(acme);
  const cp = await acme.call('POST', '/charge-points', {
    body: { identity: 'CP-ORPH', site_id: site.id, hold_amount: '10' },
  });
  const stop = {
    organizationId: acme.org.id,
    chargePointId: cp.body.id,
    transactionId: 7,
    idTag: null,
    meterStopWh: '1234.5',
    stoppedAt: new Date('2026-11-20T10:00:00Z'),
    stopReason: null,
    transactionData: [{ timestamp: '2026-11-20T09:00:00Z', sampledValue: [{ value: '1000' }] }],
  };
  const first = await recordOrphanStop(h.db, stop);
  // A resend with other content is still the first record.
  expect(await recordOrphanStop(h.db, { ...stop, meterStopWh: '9999' })).toEqual(first);
  orphanId = first.id;
});
afterAll(() => h.close());

describe('orphan sessions', () => {
  it('lists and reads them with their transaction data; another organization sees nothing', async () => {
    const list = await acme.call('GET', '/orphan-sessions');
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({
      id: orphanId,
      transaction_id: 7,
      meter_stop_wh: '1234.5',
      transaction_data: [{ timestamp: '2026-11-20T09:00:00Z', sampledValue: [{ value: '1000' }] }],
    });
    expect((await acme.call('GET', `/orphan-sessions/${orphanId}`)).body).toEqual(list.body.data[0]);
    expect((await globex.call('GET', '/orphan-sessions')).body.data).toEqual([]);
    expectError(await globex.call('GET', `/orphan-sessions/${orphanId}`), 404, null, 'resource_missing');
  });

  it('refuses bad input, writing nothing', async () => {
    const before = await tableCounts(h.db);
    expectError(await acme.call('GET', '/orphan-sessions?resolved=maybe'), 400, 'resolved');
    expectError(
      await acme.call('POST', `/orphan-sessions/${orphanId}/resolve`, { body: {} }),
      400,
      'resolution',
    );
    expectError(
      await globex.call('POST', `/orphan-sessions/${orphanId}/resolve`, { body: { resolution: 'x' } }),
      404,
      null,
      'resource_missing',
    );
    expect(await tableCounts(h.db)).toEqual(before);
    expect((await acme.call('GET', `/orphan-sessions/${orphanId}`)).body.resolved_at).toBeNull();
  });

  it('resolves once: the first note stays', async () => {
    const first = await acme.call('POST', `/orphan-sessions/${orphanId}/resolve`, {
      body: { resolution: 'Written off' },
    });
    expect(first.body).toMatchObject({ resolution: 'Written off', resolved_at: expect.any(String) });
    const again = await acme.call('POST', `/orphan-sessions/${orphanId}/resolve`, {
      body: { resolution: 'Other' },
    });
    expect(again.body).toEqual(first.body);
    expect((await acme.call('GET', '/orphan-sessions?resolved=false')).body.data).toEqual([]);
    expect((await acme.call('GET', '/orphan-sessions?resolved=true')).body.data).toHaveLength(1);
  });
});
