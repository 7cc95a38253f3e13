import type { Router } from 'express';
import {
  ChargePoint,
  createChargePoint,
  findChargePointByIdentity,
  getChargePoint,
  listChargePoints,
} from '../../db/repositories/chargePoints';
import { isUniqueViolation } from '../../db/repositories/errors';
import { getSite } from '../../db/repositories/sites';
import type { ResolvedDeps } from '../deps';
import { alreadyExists, resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import { listEnvelope, parsePage, queryString } from '../pagination';
import { optionalString, readBody, requiredDecimal, requiredString } from '../validation';

// The identity is the last path segment of the OCPP endpoint URL and the Basic-auth user name: printable,
// no '/' (path), no ':' (Basic auth splits user and password at the first one), no surrounding blanks.
const IDENTITY = /^[^\s/:\p{C}](?:[^/:\p{C}]*[^\s/:\p{C}])?$/u;
// OCPP security profile 1 (Basic auth): the password is 16 to 40 characters (OCPP 2.0.1 passwordString(40)).
const PASSWORD = { min: 16, max: 40 };
// hold_amount is numeric(18,4).
const HOLD_AMOUNT = { maxDecimals: 4, maxIntegerDigits: 14, positive: true };

export function chargePointJson(cp: ChargePoint) {
  return {
    object: 'charge_point',
    id: cp.id,
    identity: cp.identity,
    site_id: cp.siteId,
    hold_amount: cp.holdAmount,
    has_password: cp.hasPassword,
    vendor: cp.vendor,
    model: cp.model,
    serial_number: cp.serialNumber,
    firmware_version: cp.firmwareVersion,
    last_boot_at: iso(cp.lastBootAt),
    last_seen_at: iso(cp.lastSeenAt),
    connectors: cp.connectors.map((c) => ({
      connector_id: c.connectorId,
      status: c.status,
      error_code: c.errorCode,
      info: c.info,
      status_at: iso(c.statusAt),
    })),
    created_at: iso(cp.createdAt),
  };
}

const identityTaken = (identity: string) =>
  alreadyExists('identity', `A charge point with identity '${identity}' is already registered.`);

export function registerChargePointRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/charge-points',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, ['identity', 'site_id', 'password', 'hold_amount']);
      const identity = requiredString(body, 'identity', {
        max: 48,
        pattern: IDENTITY,
        patternMessage: "must be printable, without '/', ':' or surrounding white space",
      });
      const siteId = requiredString(body, 'site_id', { max: 255 });
      const password = optionalString(body, 'password', PASSWORD);
      const holdAmount = requiredDecimal(body, 'hold_amount', HOLD_AMOUNT);
      if (!(await getSite(db, org.id, siteId))) throw resourceMissing('site', siteId, 'site_id');
      if (await findChargePointByIdentity(db, identity)) throw identityTaken(identity);
      try {
        const cp = await createChargePoint(db, org.id, { identity, siteId, password, holdAmount });
        return { status: 201, body: chargePointJson(cp) };
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
      return { status: 200, body: listEnvelope(page, chargePointJson, (cp) => cp.id) };
    }),
  );

  router.get(
    '/charge-points/:id',
    read(deps, async ({ db, org, params }) => {
      const cp = await getChargePoint(db, org.id, params.id);
      if (!cp) throw resourceMissing('charge point', params.id);
      return { status: 200, body: chargePointJson(cp) };
    }),
  );
}
