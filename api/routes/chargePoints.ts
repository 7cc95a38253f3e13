import type { Router } from 'express';
import {
  ChargePoint,
  ChargePointHardware,
  ConnectorType,
  createChargePoint,
  findChargePointByIdentity,
  getChargePoint,
  listChargePoints,
  POWER_TYPES,
  updateChargePointHardware,
} from '../../db/repositories/chargePoints';
import { isUniqueViolation } from '../../db/repositories/errors';
import { getSite } from '../../db/repositories/sites';
import type { ChargePointLink, ResolvedDeps } from '../deps';
import { alreadyExists, invalidParam, resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import {
  Body,
  isPlainObject,
  optionalEnum,
  optionalString,
  parseDecimal,
  readBody,
  rejectUnknownFields,
  requiredDecimal,
  requiredString,
} from '../validation';

// The identity is the last path segment of the OCPP endpoint URL and the Basic-auth user name: printable,
// no '/' (path), no ':' (Basic auth splits user and password at the first one), no surrounding blanks.
const IDENTITY = /^[^\s/:\p{C}](?:[^/:\p{C}]*[^\s/:\p{C}])?$/u;
// OCPP security profile 1 (Basic auth): the password is 16 to 40 characters (OCPP 2.0.1 passwordString(40)).
const PASSWORD = { min: 16, max: 40 };
// hold_amount is numeric(18,4).
const HOLD_AMOUNT = { maxDecimals: 4, maxIntegerDigits: 14, positive: true };
// max_power_kw is numeric(8,2).
const MAX_POWER_KW = { maxDecimals: 2, maxIntegerDigits: 6, positive: true };
// An OCPI ConnectorType token (IEC_62196_T2, CHADEMO, ...); not a closed list, as OCPI versions add plugs.
const CONNECTOR_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,49}$/;
const MAX_CONNECTORS = 64;
const HARDWARE_FIELDS = ['power_type', 'max_power_kw', 'connector_types'] as const;

function chargePointJson(cp: ChargePoint, link: ChargePointLink | undefined) {
  return {
    object: 'charge_point',
    id: cp.id,
    identity: cp.identity,
    // To this API process's OCPP bridge; null when the API runs without one.
    connected: link ? link.isConnected(cp.identity) : null,
    site_id: cp.siteId,
    hold_amount: cp.holdAmount,
    has_password: cp.hasPassword,
    vendor: cp.vendor,
    model: cp.model,
    serial_number: cp.serialNumber,
    firmware_version: cp.firmwareVersion,
    power_type: cp.powerType,
    max_power_kw: cp.maxPowerKw,
    connector_types: cp.connectorTypes.map((t) => ({
      connector_id: t.connectorId,
      connector_type: t.connectorType,
    })),
    last_boot_at: iso(cp.lastBootAt),
    last_seen_at: iso(cp.lastSeenAt),
    connectors: cp.connectors.map((c) => ({
      connector_id: c.connectorId,
      status: c.status,
      error_code: c.errorCode,
      info: c.info,
      status_at: iso(c.statusAt),
    })),
    active_sessions: cp.activeSessions.map((a) => ({
      connector_id: a.connectorId,
      session_id: a.sessionId,
      transaction_id: a.transactionId,
      id_tag: a.idTag,
      started_at: iso(a.startedAt),
    })),
    created_at: iso(cp.createdAt),
  };
}

function readConnectorTypes(raw: unknown): ConnectorType[] {
  if (!Array.isArray(raw) || raw.length > MAX_CONNECTORS) {
    throw invalidParam('connector_types', `must be an array of at most ${MAX_CONNECTORS} connectors`);
  }
  const seen = new Set<number>();
  return raw.map((entry: unknown, i) => {
    const path = `connector_types[${i}]`;
    if (!isPlainObject(entry)) throw invalidParam(path, 'must be an object {connector_id, connector_type}');
    rejectUnknownFields(entry, ['connector_id', 'connector_type'], path);
    const id = entry.connector_id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 1000) {
      throw invalidParam(`${path}.connector_id`, 'must be an OCPP connector id from 1 to 1000');
    }
    if (seen.has(id)) throw invalidParam(`${path}.connector_id`, `connector ${id} appears more than once`);
    seen.add(id);
    const type = entry.connector_type;
    if (typeof type !== 'string' || !CONNECTOR_TYPE.test(type)) {
      throw invalidParam(`${path}.connector_type`, 'must be an OCPI ConnectorType such as IEC_62196_T2');
    }
    return { connectorId: id, connectorType: type };
  });
}

/** Power type, maximum power and connector types: absent keeps, null clears (connector_types: [] clears). */
function readHardware(body: Body): ChargePointHardware {
  const hardware: ChargePointHardware = {};
  if (body.power_type === null) hardware.powerType = null;
  else hardware.powerType = optionalEnum(body, 'power_type', POWER_TYPES);
  if (body.max_power_kw === null) hardware.maxPowerKw = null;
  else if (body.max_power_kw !== undefined) {
    hardware.maxPowerKw = parseDecimal(body.max_power_kw, 'max_power_kw', MAX_POWER_KW);
  }
  if (body.connector_types === null) hardware.connectorTypes = [];
  else if (body.connector_types !== undefined)
    hardware.connectorTypes = readConnectorTypes(body.connector_types);
  return hardware;
}

const identityTaken = (identity: string) =>
  alreadyExists('identity', `A charge point with identity '${identity}' is already registered.`);

export function registerChargePointRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/charge-points',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, ['identity', 'site_id', 'password', 'hold_amount', ...HARDWARE_FIELDS]);
      const identity = requiredString(body, 'identity', {
        max: 48,
        pattern: IDENTITY,
        patternMessage: "must be printable, without '/', ':' or surrounding white space",
      });
      const siteId = requiredString(body, 'site_id', { max: 255 });
      const password = optionalString(body, 'password', PASSWORD);
      const holdAmount = requiredDecimal(body, 'hold_amount', HOLD_AMOUNT);
      const hardware = readHardware(body);
      if (!(await getSite(db, org.id, siteId))) throw resourceMissing('site', siteId, 'site_id');
      if (await findChargePointByIdentity(db, identity)) throw identityTaken(identity);
      try {
        const cp = await createChargePoint(db, org.id, {
          identity,
          siteId,
          password,
          holdAmount,
          ...hardware,
        });
        return { status: 201, body: chargePointJson(cp, deps.chargePoints) };
      } catch (err) {
        if (isUniqueViolation(err, 'charge_points_identity_unique')) throw identityTaken(identity);
        throw err;
      }
    }),
  );

  router.get(
    '/charge-points',
    read(deps, async ({ db, org, query }) => {
      const page = await listChargePoints(db, org.id, parsePage(query), {
        siteId: queryString(query, 'site_id'),
      });
      return {
        status: 200,
        body: listEnvelope(
          page,
          (cp) => chargePointJson(cp, deps.chargePoints),
          (cp) => cp.id,
        ),
      };
    }),
  );

  router.get(
    '/charge-points/:id',
    read(deps, async ({ db, org, params }) => {
      const cp = await getChargePoint(db, org.id, params.id);
      if (!cp) throw resourceMissing('charge point', params.id);
      return { status: 200, body: chargePointJson(cp, deps.chargePoints) };
    }),
  );

  // What billing rules read about the hardware; sessions already started keep the context they began with.
  router.patch(
    '/charge-points/:id',
    write(deps, async ({ db, org, params, body: raw }) => {
      const body = readBody(raw, ['password', ...HARDWARE_FIELDS]);
      const password = optionalString(body, 'password', PASSWORD);
      const cp = await updateChargePointHardware(db, org.id, params.id, { ...readHardware(body), password });
      if (!cp) throw resourceMissing('charge point', params.id);
      return { status: 200, body: chargePointJson(cp, deps.chargePoints) };
    }),
  );
}
