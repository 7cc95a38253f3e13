import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

export interface Connector {
  connectorId: number;
  status: string;
  errorCode: string;
  info: string | null;
  statusAt: Date;
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
  lastBootAt: Date | null;
  lastSeenAt: Date | null;
  createdAt: Date;
  connectors: Connector[];
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

const toChargePoint = (row: ChargePointRow, connectors: Connector[]): ChargePoint => ({
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
  lastBootAt: row.last_boot_at,
  lastSeenAt: row.last_seen_at,
  createdAt: row.created_at,
  connectors,
});

async function withConnectors(db: Knex, rows: ChargePointRow[]): Promise<ChargePoint[]> {
  if (rows.length === 0) return [];
  const connectorRows: ConnectorRow[] = await db<ConnectorRow>('connectors')
    .whereIn(
      'charge_point_id',
      rows.map((r) => r.id),
    )
    .orderBy(['charge_point_id', 'connector_id']);
  return rows.map((row) =>
    toChargePoint(row, connectorRows.filter((c) => c.charge_point_id === row.id).map(toConnector)),
  );
}

export interface NewChargePoint {
  identity: string;
  siteId: string;
  password?: string;
  holdAmount: string;
}

/** The caller checks that the site belongs to the same organization. */
export async function createChargePoint(
  db: Knex,
  organizationId: string,
  input: NewChargePoint,
): Promise<ChargePoint> {
  const passwordHash = input.password === undefined ? null : await hashChargePointPassword(input.password);
  const [row] = await db<ChargePointRow>('charge_points')
    .insert({
      id: newId('cp'),
      organization_id: organizationId,
      site_id: input.siteId,
      identity: input.identity,
      password_hash: passwordHash,
      hold_amount: input.holdAmount,
    })
    .returning('*');
  return toChargePoint(row, []);
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
