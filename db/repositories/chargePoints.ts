import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../ids';
import { canonicalDecimal, canonicalDecimalOrNull } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

export interface Connector {
  connectorId: number;
  status: string;
  errorCode: string;
  info: string | null;
  statusAt: Date;
}

/** A session on the charge point that has not stopped yet. */
export interface ActiveSession {
  connectorId: number;
  sessionId: string;
  transactionId: number;
  idTag: string;
  startedAt: Date;
}

export type PowerType = 'AC' | 'DC';
export const POWER_TYPES: readonly PowerType[] = ['AC', 'DC'];

/** The plug of one connector as the operator described it: an OCPI ConnectorType such as IEC_62196_T2. */
export interface ConnectorType {
  connectorId: number;
  connectorType: string;
}

export interface ChargePoint {
  id: string;
  organizationId: string;
  siteId: string;
  identity: string;
  hasPassword: boolean;
  /** Amount authorized on the driver's card at session start, decimal string in the tariff's currency. */
  holdAmount: string;
  vendor: string | null;
  model: string | null;
  serialNumber: string | null;
  firmwareVersion: string | null;
  powerType: PowerType | null;
  /** Decimal string, kW. */
  maxPowerKw: string | null;
  lastBootAt: Date | null;
  lastSeenAt: Date | null;
  createdAt: Date;
  connectors: Connector[];
  /** By connector id. */
  connectorTypes: ConnectorType[];
  activeSessions: ActiveSession[];
}

/** The stored row, password hash included: for the OCPP bridge's authentication, never for an API answer. */
export interface ChargePointRow {
  id: string;
  organization_id: string;
  site_id: string;
  identity: string;
  password_hash: string | null;
  hold_amount: string;
  vendor: string | null;
  model: string | null;
  serial_number: string | null;
  firmware_version: string | null;
  power_type: PowerType | null;
  max_power_kw: string | null;
  last_boot_at: Date | null;
  last_seen_at: Date | null;
  created_at: Date;
}

interface ConnectorRow {
  charge_point_id: string;
  connector_id: number;
  status: string;
  error_code: string;
  info: string | null;
  status_at: Date;
}

interface ConnectorTypeRow {
  charge_point_id: string;
  connector_id: number;
  connector_type: string;
}

// ---- passwords (OCPP security profile 1: HTTP Basic auth)

// OWASP's scrypt baseline; stored with the hash so it can be raised later without breaking old hashes.
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32, saltLength: 16 };
// Bounds on parameters read back from a stored hash, so a corrupt row cannot make verification hang.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

function scryptAsync(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const maxmem = (N: number, r: number) => 256 * N * r;

/** `scrypt$N$r$p$<salt base64>$<hash base64>`: self-describing, so parameters can change per hash. */
export async function hashChargePointPassword(password: string): Promise<string> {
  const { N, r, p, keyLength, saltLength } = SCRYPT;
  const salt = randomBytes(saltLength);
  const key = await scryptAsync(password, salt, keyLength, { N, r, p, maxmem: maxmem(N, r) });
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyChargePointPassword(hash: string, password: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map((v) => (/^\d{1,8}$/.test(v) ? Number(v) : NaN));
  const validParams =
    Number.isInteger(N) &&
    N > 1 &&
    N <= MAX_N &&
    (N & (N - 1)) === 0 &&
    r >= 1 &&
    r <= MAX_R &&
    p >= 1 &&
    p <= MAX_P;
  if (!validParams) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (salt.length === 0 || expected.length < 16) return false;
  const actual = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem: maxmem(N, r) });
  return timingSafeEqual(actual, expected);
}

// ---- charge points

const toConnector = (row: ConnectorRow): Connector => ({
  connectorId: row.connector_id,
  status: row.status,
  errorCode: row.error_code,
  info: row.info,
  statusAt: row.status_at,
});

const toChargePoint = (
  row: ChargePointRow,
  connectors: Connector[],
  connectorTypes: ConnectorType[],
  activeSessions: ActiveSession[],
): ChargePoint => ({
  id: row.id,
  organizationId: row.organization_id,
  siteId: row.site_id,
  identity: row.identity,
  hasPassword: row.password_hash !== null,
  holdAmount: canonicalDecimal(row.hold_amount),
  vendor: row.vendor,
  model: row.model,
  serialNumber: row.serial_number,
  firmwareVersion: row.firmware_version,
  powerType: row.power_type,
  maxPowerKw: canonicalDecimalOrNull(row.max_power_kw),
  lastBootAt: row.last_boot_at,
  lastSeenAt: row.last_seen_at,
  createdAt: row.created_at,
  connectors,
  connectorTypes,
  activeSessions,
});

async function withConnectors(db: Knex, rows: ChargePointRow[]): Promise<ChargePoint[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const connectorRows: ConnectorRow[] = await db<ConnectorRow>('connectors')
    .whereIn('charge_point_id', ids)
    .orderBy(['charge_point_id', 'connector_id']);
  const typeRows: ConnectorTypeRow[] = await db<ConnectorTypeRow>('connector_types')
    .whereIn('charge_point_id', ids)
    .orderBy(['charge_point_id', 'connector_id']);
  const sessionRows: (ActiveSession & { chargePointId: string })[] = await db('charging_sessions')
    .whereIn('charge_point_id', ids)
    .whereIn('status', ['starting', 'active'])
    .whereNull('stopped_at')
    .orderBy(['charge_point_id', 'connector_id', 'started_at'])
    .select({
      chargePointId: 'charge_point_id',
      connectorId: 'connector_id',
      sessionId: 'id',
      transactionId: 'transaction_id',
      idTag: 'id_tag',
      startedAt: 'started_at',
    });
  return rows.map((row) =>
    toChargePoint(
      row,
      connectorRows.filter((c) => c.charge_point_id === row.id).map(toConnector),
      typeRows
        .filter((t) => t.charge_point_id === row.id)
        .map((t) => ({ connectorId: t.connector_id, connectorType: t.connector_type })),
      sessionRows
        .filter((r) => r.chargePointId === row.id)
        .map(({ chargePointId: _, ...session }) => session),
    ),
  );
}

/** What pricing reads about the hardware: rule conditions on power class and connector type. */
export interface ChargePointHardware {
  powerType?: PowerType | null;
  /** Decimal string, kW, at most 2 decimals. */
  maxPowerKw?: string | null;
  /** Replaces every connector type of the charge point; connector ids are distinct and at least 1. */
  connectorTypes?: ConnectorType[];
}

export interface NewChargePoint extends ChargePointHardware {
  identity: string;
  siteId: string;
  password?: string;
  holdAmount: string;
}

async function replaceConnectorTypes(db: Knex, chargePointId: string, types: ConnectorType[]): Promise<void> {
  await db('connector_types').where({ charge_point_id: chargePointId }).delete();
  if (types.length === 0) return;
  await db('connector_types').insert(
    types.map((t) => ({
      charge_point_id: chargePointId,
      connector_id: t.connectorId,
      connector_type: t.connectorType,
    })),
  );
}

/** The caller checks that the site belongs to the same organization. */
export async function createChargePoint(
  db: Knex,
  organizationId: string,
  input: NewChargePoint,
): Promise<ChargePoint> {
  const passwordHash = input.password === undefined ? null : await hashChargePointPassword(input.password);
  return db.transaction(async (trx) => {
    const [row] = await trx<ChargePointRow>('charge_points')
      .insert({
        id: newId('cp'),
        organization_id: organizationId,
        site_id: input.siteId,
        identity: input.identity,
        password_hash: passwordHash,
        hold_amount: input.holdAmount,
        power_type: input.powerType ?? null,
        max_power_kw: input.maxPowerKw ?? null,
      })
      .returning('*');
    await replaceConnectorTypes(trx, row.id, input.connectorTypes ?? []);
    return (await withConnectors(trx, [row]))[0];
  });
}

/**
 * Only the given fields change; null clears one. A new password takes effect at the next connection.
 * Undefined when the charge point is not the organization's.
 */
export async function updateChargePointHardware(
  db: Knex,
  organizationId: string,
  id: string,
  changes: ChargePointHardware & { password?: string },
): Promise<ChargePoint | undefined> {
  // Hashing takes ~50 ms of CPU: outside the transaction so no row stays locked meanwhile.
  const passwordHash =
    changes.password === undefined ? undefined : await hashChargePointPassword(changes.password);
  return db.transaction(async (trx) => {
    const patch: Partial<ChargePointRow> = {};
    if (passwordHash !== undefined) patch.password_hash = passwordHash;
    if (changes.powerType !== undefined) patch.power_type = changes.powerType;
    if (changes.maxPowerKw !== undefined) patch.max_power_kw = changes.maxPowerKw;
    const query = trx<ChargePointRow>('charge_points').where({ organization_id: organizationId, id });
    // The row lock also serialises concurrent replacements of the connector types.
    const [row] =
      Object.keys(patch).length === 0
        ? await query.forUpdate().select('*')
        : await query.update(patch).returning('*');
    if (!row) return undefined;
    if (changes.connectorTypes !== undefined) await replaceConnectorTypes(trx, id, changes.connectorTypes);
    return (await withConnectors(trx, [row]))[0];
  });
}

export interface PricingPlace {
  siteId: string;
  /** The site's IANA time zone: time-of-day and day-of-week conditions are local to the charge point. */
  timeZone: string;
  powerType: PowerType | null;
  maxPowerKw: string | null;
  /** The connector's type, null when the operator has not described that connector. */
  connectorType: string | null;
}

/** Where a session on this connector takes place, as billing rule conditions see it. */
export async function findPricingContext(
  db: Knex,
  chargePointId: string,
  connectorId: number,
): Promise<PricingPlace | undefined> {
  const row = await db('charge_points as cp')
    .join('sites as s', 's.id', 'cp.site_id')
    .leftJoin('connector_types as ct', function () {
      this.on('ct.charge_point_id', 'cp.id').andOn('ct.connector_id', db.raw('?', [connectorId]));
    })
    .where('cp.id', chargePointId)
    .first<
      | {
          site_id: string;
          time_zone: string;
          power_type: PowerType | null;
          max_power_kw: string | null;
          connector_type: string | null;
        }
      | undefined
    >('cp.site_id', 's.time_zone', 'cp.power_type', 'cp.max_power_kw', 'ct.connector_type');
  return (
    row && {
      siteId: row.site_id,
      timeZone: row.time_zone,
      powerType: row.power_type,
      maxPowerKw: canonicalDecimalOrNull(row.max_power_kw),
      connectorType: row.connector_type,
    }
  );
}

export async function getChargePoint(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<ChargePoint | undefined> {
  const row = await db<ChargePointRow>('charge_points')
    .where({ organization_id: organizationId, id })
    .first();
  return row && (await withConnectors(db, [row]))[0];
}

export async function listChargePoints(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { siteId?: string } = {},
): Promise<Page<ChargePoint>> {
  const query = db('charge_points').where({ organization_id: organizationId });
  if (filter.siteId !== undefined) query.where({ site_id: filter.siteId });
  const result = await fetchPage(query, page, 'id', (row: ChargePointRow) => row);
  return { data: await withConnectors(db, result.data), hasMore: result.hasMore };
}

/** Identities are global to the central system (they are the OCPP endpoint path), so no organization here. */
export async function findChargePointByIdentity(
  db: Knex,
  identity: string,
): Promise<ChargePointRow | undefined> {
  return db<ChargePointRow>('charge_points').where({ identity }).first();
}

export interface BootInfo {
  vendor: string;
  model: string;
  serialNumber?: string | null;
  firmwareVersion?: string | null;
  at: Date;
}

export async function recordBootNotification(db: Knex, chargePointId: string, boot: BootInfo): Promise<void> {
  await db('charge_points')
    .where({ id: chargePointId })
    .update({
      vendor: boot.vendor,
      model: boot.model,
      serial_number: boot.serialNumber ?? null,
      firmware_version: boot.firmwareVersion ?? null,
      last_boot_at: boot.at,
      last_seen_at: boot.at,
    });
}

export async function recordHeartbeat(db: Knex, chargePointId: string, at: Date): Promise<void> {
  await db('charge_points').where({ id: chargePointId }).update({ last_seen_at: at });
}

export interface ConnectorStatus {
  connectorId: number;
  status: string;
  errorCode?: string;
  info?: string | null;
  at: Date;
}

/** The connector's last reported status, if it reported one. */
export async function findConnectorStatus(
  db: Knex,
  chargePointId: string,
  connectorId: number,
): Promise<{ status: string; at: Date } | undefined> {
  const row = await db('connectors')
    .where({ charge_point_id: chargePointId, connector_id: connectorId })
    .first('status', 'status_at');
  return row?.status_at ? { status: row.status, at: new Date(row.status_at) } : undefined;
}

/** StatusNotifications can arrive out of order after a reconnect: an older report never overwrites a newer one. */
export async function upsertConnectorStatus(
  db: Knex,
  chargePointId: string,
  report: ConnectorStatus,
): Promise<void> {
  await db.raw(
    `INSERT INTO connectors (charge_point_id, connector_id, status, error_code, info, status_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (charge_point_id, connector_id) DO UPDATE
       SET status = excluded.status, error_code = excluded.error_code, info = excluded.info,
           status_at = excluded.status_at
       WHERE connectors.status_at <= excluded.status_at`,
    [
      chargePointId,
      report.connectorId,
      report.status,
      report.errorCode ?? 'NoError',
      report.info ?? null,
      report.at,
    ],
  );
}
