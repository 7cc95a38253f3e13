// A charge-point simulator: runs complete OCPP 1.6J sessions against the running platform (the real
// ocpp-rpc client in strict mode) and prints each receipt as the API returns it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, loadDotEnv } from '../config/env';
import { ChargePointClient, connectChargePoint } from './ocpp-client';
import { collectReceipts, FleetOptions, provisionFleet, runFleet } from './sim/fleet';
import type { DemoCredentials } from './seed-demo';

interface Options {
  sessions: number;
  kwh: number;
  minutes: number;
  samples: number;
  /** Fleet mode: this many new charge points, each running `sessions` sessions at once with the others. */
  'charge-points': number;
  /** Fleet mode: simulated seconds between meter values. */
  interval: number;
  /** Fleet mode: share of sessions that drop the connection mid-session, and that go offline. */
  drop: number;
  offline: number;
  /** Wait this long after each meter value, as a real charger's samples arrive over time. */
  'pause-ms': number;
  /** Whose tag charges (single charge point mode); the demo's card-paying driver by default. */
  'id-tag'?: string;
}

const USAGE =
  'usage: simulate [--sessions N] [--kwh N] [--minutes N] [--samples N] [--pause-ms N] [--id-tag TAG] ' +
  '[--charge-points N [--interval S] [--drop 0..1] [--offline 0..1]]';

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    sessions: 1,
    kwh: 12.5,
    minutes: 35,
    samples: 6,
    'charge-points': 0,
    interval: 60,
    drop: 0,
    offline: 0,
    'pause-ms': 0,
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--id-tag' && argv[i + 1]) {
      opts['id-tag'] = argv[i + 1];
      continue;
    }
    const key = argv[i].replace(/^--/, '') as Exclude<keyof Options, 'id-tag'>;
    const value = Number(argv[i + 1]);
    const rate = key === 'drop' || key === 'offline';
    if (
      !(key in opts) ||
      !Number.isFinite(value) ||
      value < 0 ||
      (!rate && value === 0) ||
      (rate && value > 1)
    ) {
      throw new Error(`${USAGE}; bad ${argv[i]}`);
    }
    opts[key] = value;
  }
  return opts;
}

/** New charge points at the demo's site, all charging at once, with faults on demand; prints a summary. */
async function runFleetMode(
  opts: Options,
  api: string,
  endpoint: string,
  demo: DemoCredentials,
): Promise<void> {
  const headers = { Authorization: `Bearer ${demo.apiKey}` };
  const cps = (await fetch(`${api}/charge-points?limit=100`, { headers }).then((r) => r.json())) as {
    data: { identity: string; site_id: string }[];
  };
  const siteId = cps.data.find((c) => c.identity === demo.chargePointIdentity)?.site_id;
  if (!siteId) throw new Error('the demo charge point is missing; run npm start first');
  const fleetOpts: FleetOptions = {
    endpoint,
    api,
    apiKey: demo.apiKey,
    siteId,
    chargePoints: opts['charge-points'],
    sessionsPerChargePoint: opts.sessions,
    kwh: opts.kwh,
    minutes: opts.minutes,
    meterIntervalSeconds: opts.interval,
    dropRate: opts.drop,
    offlineRate: opts.offline,
    offlineMs: 2000,
    prefix: 'SIM',
  };
  const started = Date.now();
  const sessions = await runFleet(fleetOpts, await provisionFleet(fleetOpts));
  const sent = (Date.now() - started) / 1000;
  const receipts = await collectReceipts(fleetOpts, sessions, 120_000);
  const faults = sessions.reduce<Record<string, number>>(
    (n, s) => ({ ...n, [s.fault]: (n[s.fault] ?? 0) + 1 }),
    {},
  );
  const duplicates = [...receipts.values()].reduce((n, r) => n + r.duplicates, 0);
  console.log(
    JSON.stringify(
      {
        charge_points: fleetOpts.chargePoints,
        sessions: sessions.length,
        faults,
        ocpp_seconds: Number(sent.toFixed(1)),
        receipts: receipts.size,
        missing_receipts: sessions.length - receipts.size,
        billed_twice: duplicates,
      },
      null,
      2,
    ),
  );
  if (receipts.size !== sessions.length || duplicates > 0) process.exitCode = 1;
}

async function runSession(
  cp: ChargePointClient,
  idTag: string,
  opts: Options,
  connectorId: number,
): Promise<number> {
  const start = Date.now() - opts.minutes * 60_000;
  const at = (fraction: number) => new Date(start + fraction * opts.minutes * 60_000).toISOString();
  const meterStart = 100_000 + Math.floor(Math.random() * 1_000_000);
  const totalWh = Math.round(opts.kwh * 1000);

  const auth = await cp.call<{ idTagInfo: { status: string } }>('Authorize', { idTag });
  if (auth.idTagInfo.status !== 'Accepted')
    throw new Error(`id tag ${idTag} refused: ${auth.idTagInfo.status}`);
  await cp.call('StatusNotification', {
    connectorId,
    errorCode: 'NoError',
    status: 'Preparing',
    timestamp: at(0),
  });
  const started = await cp.call<{ transactionId: number }>('StartTransaction', {
    connectorId,
    idTag,
    meterStart,
    timestamp: at(0),
  });
  const transactionId = started.transactionId;
  await cp.call('StatusNotification', {
    connectorId,
    errorCode: 'NoError',
    status: 'Charging',
    timestamp: at(0),
  });
  for (let i = 1; i <= opts.samples; i++) {
    const f = i / (opts.samples + 1);
    await cp.call('MeterValues', {
      connectorId,
      transactionId,
      meterValue: [
        {
          timestamp: at(f),
          sampledValue: [
            {
              value: String(meterStart + Math.round(totalWh * f)),
              measurand: 'Energy.Active.Import.Register',
              unit: 'Wh',
            },
            { value: '22000', measurand: 'Power.Active.Import', unit: 'W' },
          ],
        },
      ],
    });
    if (opts['pause-ms'] > 0) await new Promise((r) => setTimeout(r, opts['pause-ms']));
  }
  await cp.call('StopTransaction', {
    transactionId,
    idTag,
    meterStop: meterStart + totalWh,
    timestamp: at(1),
    reason: 'EVDisconnected',
  });
  await cp.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Available' });
  return transactionId;
}

async function waitForReceipt(api: string, apiKey: string, transactionId: number): Promise<unknown> {
  const headers = { Authorization: `Bearer ${apiKey}` };
  for (let attempt = 0; attempt < 120; attempt++) {
    const list = (await fetch(`${api}/sessions?limit=100`, { headers }).then((r) => r.json())) as {
      data?: { transaction_id: number; receipt: unknown }[];
    };
    const session = list.data?.find((s: { transaction_id: number }) => s.transaction_id === transactionId);
    if (session?.receipt) return session;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no receipt for transaction ${transactionId} after 60 s; is the worker running?`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  loadDotEnv();
  const config = loadConfig();
  const demoFile = path.resolve(__dirname, '../..', config.dataDir, 'demo.json');
  const demo: DemoCredentials = JSON.parse(readFileSync(demoFile, 'utf8'));
  const api = `http://${config.host}:${config.apiPort}/api/v1/billing`;

  const endpoint = `ws://${config.host}:${config.ocppPort}/ocpp`;
  if (opts['charge-points'] > 0) return runFleetMode(opts, api, endpoint, demo);

  const cp = await connectChargePoint({
    endpoint,
    identity: demo.chargePointIdentity,
    password: demo.chargePointPassword,
  });
  await cp.call('BootNotification', {
    chargePointVendor: 'Simulator',
    chargePointModel: 'Sim-1',
    firmwareVersion: '1.0',
  });
  try {
    for (let n = 0; n < opts.sessions; n++) {
      const transactionId = await runSession(cp, opts['id-tag'] ?? demo.idTag, opts, 1);
      const session = await waitForReceipt(api, demo.apiKey, transactionId);
      console.log(JSON.stringify(session, null, 2));
    }
  } finally {
    await cp.close();
  }
}

main().catch((err) => {
  console.error('simulate failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
