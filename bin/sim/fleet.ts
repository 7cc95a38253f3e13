import { randomBytes } from 'node:crypto';
import { RPCClient } from 'ocpp-rpc';

// A fleet of simulated charge points on the real ocpp-rpc client (strict mode), for demos, load and fault
// drills: many charge points charging at once, a configurable meter interval, and faults on demand. A
// dropped connection loses the reply to a message in flight, so the charge point resends it; an offline
// spell queues every message with the time it happened and replays them in order after reconnecting,
// as OCPP 1.6 charge points do with transaction messages.

type RpcOptions = ConstructorParameters<typeof RPCClient>[0];

export interface FleetOptions {
  /** ws://host:port/ocpp */
  endpoint: string;
  /** http://host:port/api/v1/billing */
  api: string;
  apiKey: string;
  /** Site to put the simulated charge points at (a tariff must apply there). */
  siteId: string;
  chargePoints: number;
  sessionsPerChargePoint: number;
  kwh: number;
  minutes: number;
  /** Simulated seconds between meter samples. */
  meterIntervalSeconds: number;
  /** Share of sessions (0..1) that lose their connection mid-session and resend. */
  dropRate: number;
  /** Share of sessions (0..1) that go offline mid-session and replay their queue later. */
  offlineRate: number;
  offlineMs: number;
  prefix: string;
  /** Faults in turn instead of at random (drills and tests). */
  faultPlan?: SimulatedSession['fault'][];
}

export interface SimulatedSession {
  identity: string;
  transactionId: number;
  energyWh: number;
  fault: 'none' | 'drop' | 'offline';
}

interface SimChargePoint {
  identity: string;
  password: string;
  idTag: string;
}

async function apiCall<T>(opts: FleetOptions, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${opts.api}${path}`, {
    method,
    headers: { Authorization: `Bearer ${opts.apiKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

/** The fields of the API's session the fleet checks. */
export interface BilledSession {
  transaction_id: number;
  charge_point_identity: string;
  energy_kwh: string | null;
  receipt: { total: string } | null;
  /** Other sessions of the same charge point and transaction id: a resend billed twice. */
  duplicates: number;
}

/** Charge points, drivers with a card that holds, and their tags, created through the API. */
export async function provisionFleet(opts: FleetOptions): Promise<SimChargePoint[]> {
  const fleet: SimChargePoint[] = [];
  const run = randomBytes(3).toString('hex').toUpperCase();
  for (let i = 0; i < opts.chargePoints; i++) {
    const identity = `${opts.prefix}-${run}-${i}`;
    const password = randomBytes(12).toString('hex');
    await apiCall(opts, 'POST', '/charge-points', {
      identity,
      site_id: opts.siteId,
      password,
      hold_amount: '50',
    });
    const user = await apiCall<{ id: string }>(opts, 'POST', '/users', {
      email: `${identity.toLowerCase()}@sim.example.com`,
      name: `Driver ${identity}`,
      user_type: 'public',
      payment_method_id: 'pm_card_visa',
    });
    const idTag = `S${run}${i}`.slice(0, 20);
    await apiCall(opts, 'POST', '/id-tags', { id_tag: idTag, user_id: user.id, type: 'rfid' });
    fleet.push({ identity, password, idTag });
  }
  return fleet;
}

class SimConnection {
  client!: RPCClient;
  constructor(
    private readonly endpoint: string,
    private readonly cp: SimChargePoint,
  ) {}

  async connect(): Promise<void> {
    this.client = new RPCClient({
      endpoint: this.endpoint,
      identity: this.cp.identity,
      password: this.cp.password,
      protocols: ['ocpp1.6'],
      strictMode: true,
      reconnect: false,
    } as RpcOptions);
    await this.client.connect();
  }

  call<T>(action: string, payload: object): Promise<T> {
    return this.client.call(action, payload) as Promise<T>;
  }

  /** The socket dies with this message on the wire: its reply never arrives. */
  async dropDuring(action: string, payload: object): Promise<void> {
    const lost = this.client.call(action, payload).catch(() => undefined);
    await this.client.close({ force: true, awaitPending: false });
    await lost;
  }

  close(): Promise<unknown> {
    return this.client.close({ code: 1000 });
  }
}

async function runSession(
  conn: SimConnection,
  cp: SimChargePoint,
  opts: FleetOptions,
  fault: SimulatedSession['fault'],
  startMs: number,
): Promise<SimulatedSession> {
  const samples = Math.max(1, Math.floor((opts.minutes * 60) / opts.meterIntervalSeconds));
  const at = (s: number) => new Date(startMs + s * 1000).toISOString();
  const meterStart = 100_000 + Math.floor(Math.random() * 1_000_000);
  const totalWh = Math.round(opts.kwh * 1000);
  const endS = opts.minutes * 60;

  await conn.call('StatusNotification', {
    connectorId: 1,
    errorCode: 'NoError',
    status: 'Preparing',
    timestamp: at(0),
  });
  const started = await conn.call<{ transactionId: number }>('StartTransaction', {
    connectorId: 1,
    idTag: cp.idTag,
    meterStart,
    timestamp: at(0),
  });
  const transactionId = started.transactionId;
  await conn.call('StatusNotification', {
    connectorId: 1,
    errorCode: 'NoError',
    status: 'Charging',
    timestamp: at(0),
  });

  const messages: [string, object][] = [];
  for (let i = 1; i <= samples; i++) {
    const s = Math.min(i * opts.meterIntervalSeconds, endS);
    messages.push([
      'MeterValues',
      {
        connectorId: 1,
        transactionId,
        meterValue: [
          {
            timestamp: at(s),
            sampledValue: [
              {
                value: String(meterStart + Math.round((totalWh * s) / endS)),
                measurand: 'Energy.Active.Import.Register',
                unit: 'Wh',
              },
              {
                value: String(Math.round((totalWh * 3600) / endS)),
                measurand: 'Power.Active.Import',
                unit: 'W',
              },
            ],
          },
        ],
      },
    ]);
  }
  messages.push([
    'StopTransaction',
    {
      transactionId,
      idTag: cp.idTag,
      meterStop: meterStart + totalWh,
      timestamp: at(endS),
      reason: 'EVDisconnected',
    },
  ]);

  const faultAt = Math.floor(messages.length / 2);
  for (let i = 0; i < messages.length; i++) {
    const [action, payload] = messages[i];
    if (i === faultAt && fault === 'drop') {
      await conn.dropDuring(action, payload);
      await conn.connect();
      await conn.call(action, payload); // the resend of the message whose reply was lost
      continue;
    }
    if (i === faultAt && fault === 'offline') {
      await conn.close();
      await new Promise((r) => setTimeout(r, opts.offlineMs));
      await conn.connect();
      for (const [queued, body] of messages.slice(i)) await conn.call(queued, body);
      break;
    }
    await conn.call(action, payload);
  }
  await conn.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
  return { identity: cp.identity, transactionId, energyWh: totalWh, fault };
}

function pickFault(opts: FleetOptions, n: number): SimulatedSession['fault'] {
  if (opts.faultPlan?.length) return opts.faultPlan[n % opts.faultPlan.length];
  const r = Math.random();
  if (r < opts.dropRate) return 'drop';
  if (r < opts.dropRate + opts.offlineRate) return 'offline';
  return 'none';
}

/** Every charge point runs its sessions one after another; the charge points run at once. */
export async function runFleet(opts: FleetOptions, fleet: SimChargePoint[]): Promise<SimulatedSession[]> {
  const now = Date.now();
  const results = await Promise.all(
    fleet.map(async (cp, n) => {
      const conn = new SimConnection(opts.endpoint, cp);
      await conn.connect();
      await conn.call('BootNotification', { chargePointVendor: 'Simulator', chargePointModel: 'Sim-Fleet' });
      const done: SimulatedSession[] = [];
      try {
        for (let k = 0; k < opts.sessionsPerChargePoint; k++) {
          // Sessions in the recent past, one after another, so timestamps are never in the future.
          const span = (opts.minutes + 5) * 60_000;
          const start = now - (opts.sessionsPerChargePoint - k) * span - n * 1000;
          done.push(
            await runSession(conn, cp, opts, pickFault(opts, n * opts.sessionsPerChargePoint + k), start),
          );
        }
      } finally {
        await conn.close();
      }
      return done;
    }),
  );
  return results.flat();
}

/** Waits for every session's receipt; a session billed twice or lost shows up here. */
export async function collectReceipts(
  opts: FleetOptions,
  sessions: SimulatedSession[],
  timeoutMs = 60_000,
): Promise<Map<SimulatedSession, BilledSession>> {
  type Page = { data: Omit<BilledSession, 'duplicates'>[]; has_more: boolean; next_cursor: string | null };
  const found = new Map<SimulatedSession, BilledSession>();
  const deadline = Date.now() + timeoutMs;
  while (found.size < sessions.length && Date.now() < deadline) {
    const all: Page['data'] = [];
    let cursor: string | null = null;
    do {
      const after: string = cursor ? `&starting_after=${cursor}` : '';
      const page: Page = await apiCall<Page>(opts, 'GET', `/sessions?limit=100${after}`);
      all.push(...page.data);
      cursor = page.has_more ? page.next_cursor : null;
    } while (cursor);
    for (const s of sessions) {
      const matches = all.filter(
        (x) => x.transaction_id === s.transactionId && x.charge_point_identity === s.identity,
      );
      const withReceipt = matches.find((x) => x.receipt);
      if (withReceipt) found.set(s, { ...withReceipt, duplicates: matches.length - 1 });
    }
    if (found.size < sessions.length) await new Promise((r) => setTimeout(r, 500));
  }
  return found;
}
