import type { Router } from 'express';
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { enqueueCommand, expireIfUnsent, findCommandByKey } from '../../db/repositories/chargePointCommands';
import { ChargePoint, getChargePoint } from '../../db/repositories/chargePoints';
import { getSessionView } from '../../db/repositories/sessionViews';
import { findIdTagByValue } from '../../db/repositories/users';
import { ChargePointUnavailable, OcppError } from '../../ocpp/errors';
import { holdForRemoteStart, releaseRemoteStartHold } from '../remote-start-hold';
import type { ChargePointLink, ResolvedDeps } from '../deps';
import { ApiError, invalidParam, resourceMissing } from '../errors';
import { act, read } from '../handler';
import { money } from '../json';
import { queryString } from '../pagination';
import { Body, optionalInteger, readBody, requiredEnum, requiredString } from '../validation';

// Central-system calls an operator makes from the API. They travel over the charge point's WebSocket to
// this process's OCPP bridge; the answer is the charge point's own (Accepted, Rejected, ...). A charge point
// that is not connected or does not answer gets its own error code, never a silent success.

const DEFAULT_TIMEOUT_MS = 10_000;
const QUEUE_POLL_MS = 50;
const TRIGGERABLE = [
  'BootNotification',
  'DiagnosticsStatusNotification',
  'FirmwareStatusNotification',
  'Heartbeat',
  'MeterValues',
  'StatusNotification',
] as const;
const AVAILABILITY = ['Operative', 'Inoperative'] as const;
const SECONDS_KEYS = ['MeterValueSampleInterval', 'ClockAlignedDataInterval'];
const MEASURAND_KEYS = [
  'MeterValuesSampledData',
  'MeterValuesAlignedData',
  'StopTxnSampledData',
  'StopTxnAlignedData',
];
const CONFIGURABLE = [...SECONDS_KEYS, ...MEASURAND_KEYS] as const;
const MEASURAND_LIST = /^[A-Za-z.]+(,[A-Za-z.]+)*$/;

function found(cp: ChargePoint | undefined, id: string): ChargePoint {
  if (!cp) throw resourceMissing('charge point', id);
  return cp;
}

const offline = (cp: ChargePoint, where: string) =>
  new ApiError(
    409,
    'invalid_request_error',
    'charge_point_offline',
    `Charge point ${cp.identity} is not connected${where}.`,
  );

const noAnswer = (cp: ChargePoint, action: string, timeoutMs: number) =>
  new ApiError(
    504,
    'api_error',
    'charge_point_timeout',
    `Charge point ${cp.identity} did not answer ${action} within ${timeoutMs / 1000} s.`,
  );

const refused = (cp: ChargePoint, action: string, detail: string) =>
  new ApiError(
    502,
    'api_error',
    'charge_point_error',
    `Charge point ${cp.identity} answered ${action} with ${detail}`,
  );

async function callDirect(
  link: ChargePointLink,
  cp: ChargePoint,
  action: string,
  payload: object,
  timeoutMs: number,
) {
  try {
    return await link.sendCall(cp.identity, action, payload, timeoutMs);
  } catch (err) {
    if (err instanceof ChargePointUnavailable) {
      throw err.reason === 'offline' ? offline(cp, '') : noAnswer(cp, action, timeoutMs);
    }
    if (err instanceof OcppError) throw refused(cp, action, `${err.code}: ${err.message}`);
    throw err;
  }
}

/**
 * The charge point is held by another process's bridge (several API/bridge instances behind a load
 * balancer): the command goes through charge_point_commands, whose relay in that process sends it, and the
 * answer is read back. A command no bridge took by the deadline is withdrawn, so a later reconnect does not
 * act on a request the operator was told had failed.
 */
async function callQueued(db: Knex, cp: ChargePoint, action: string, payload: object, timeoutMs: number) {
  const command = await enqueueCommand(db, {
    organizationId: cp.organizationId,
    chargePointId: cp.id,
    action,
    payload,
    idempotencyKey: `api:${randomUUID()}`,
    ttlMs: timeoutMs,
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await findCommandByKey(db, command.idempotencyKey);
    if (current?.status === 'answered') return current.response ?? {};
    if (current?.status === 'failed') throw refused(cp, action, current.error ?? 'an error');
    if (current?.status === 'expired') throw offline(cp, ' to any bridge');
    if (Date.now() >= deadline) {
      if (await expireIfUnsent(db, command.id)) throw offline(cp, ' to any bridge');
      throw noAnswer(cp, action, timeoutMs);
    }
    await new Promise((r) => setTimeout(r, QUEUE_POLL_MS));
  }
}

async function send(deps: ResolvedDeps, cp: ChargePoint, action: string, payload: object) {
  const link = deps.chargePoints;
  const timeoutMs = deps.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const response = link?.isConnected(cp.identity)
    ? await callDirect(link, cp, action, payload, timeoutMs)
    : await callQueued(deps.db, cp, action, payload, timeoutMs);
  deps.log.info('central system call answered', { chargePointId: cp.id, identity: cp.identity, action });
  const status = (response as { status?: unknown }).status;
  return {
    status: 200,
    body: {
      object: 'charge_point_command',
      charge_point_id: cp.id,
      action,
      status: typeof status === 'string' ? status : null,
      response,
    },
  };
}

export function registerChargePointCommandRoutes(router: Router, deps: ResolvedDeps): void {
  type Build = (body: Body, orgId: string, db: Knex) => Promise<[action: string, payload: object]>;
  const post = (path: string, build: Build, fields: string[]) =>
    router.post(
      `/charge-points/:id/${path}`,
      act(deps, async ({ db, org, params, body: raw }) => {
        const body = readBody(raw, fields);
        const cp = found(await getChargePoint(db, org.id, params.id), params.id);
        const [action, payload] = await build(body, org.id, db);
        return send(deps, cp, action, payload);
      }),
    );

  // A card payer's money is held before the charge point is asked; a refused start releases it at once.
  router.post(
    '/charge-points/:id/remote-start',
    act(deps, async ({ db, org, params, body: raw }) => {
      const body = readBody(raw, ['id_tag', 'connector_id']);
      const cp = found(await getChargePoint(db, org.id, params.id), params.id);
      const idTag = requiredString(body, 'id_tag', { max: 20, trim: true });
      const connectorId = optionalInteger(body, 'connector_id', 1, 100);
      const tag = await findIdTagByValue(db, idTag);
      if (!tag || tag.organizationId !== org.id) throw resourceMissing('id tag', idTag, 'id_tag');
      const hold = await holdForRemoteStart(deps, db, cp, tag.idTag);
      let reply;
      try {
        reply = await send(deps, cp, 'RemoteStartTransaction', {
          idTag: tag.idTag,
          ...(connectorId !== undefined && { connectorId }),
        });
      } catch (err) {
        await releaseRemoteStartHold(deps, db, hold);
        throw err;
      }
      if (reply.body.status !== 'Accepted') await releaseRemoteStartHold(deps, db, hold);
      const held = hold && reply.body.status === 'Accepted';
      return {
        status: 200,
        body: {
          ...reply.body,
          pre_authorization: hold
            ? {
                id: hold.id,
                amount: money(hold.amount, hold.currency),
                currency: hold.currency,
                status: held ? 'pending' : 'released',
              }
            : null,
        },
      };
    }),
  );

  post(
    'remote-stop',
    async (body) => {
      const transactionId = optionalInteger(body, 'transaction_id', 1, 2_147_483_647);
      if (transactionId === undefined) throw invalidParam('transaction_id', 'is required');
      return ['RemoteStopTransaction', { transactionId }];
    },
    ['transaction_id'],
  );

  post(
    'availability',
    async (body) => {
      const connectorId = optionalInteger(body, 'connector_id', 0, 100) ?? 0;
      const type = requiredEnum(body, 'type', AVAILABILITY);
      return ['ChangeAvailability', { connectorId, type }];
    },
    ['connector_id', 'type'],
  );

  post(
    'trigger',
    async (body) => {
      const requestedMessage = requiredEnum(body, 'requested_message', TRIGGERABLE);
      const connectorId = optionalInteger(body, 'connector_id', 1, 100);
      return ['TriggerMessage', { requestedMessage, ...(connectorId !== undefined && { connectorId }) }];
    },
    ['requested_message', 'connector_id'],
  );

  // Only the keys billing depends on: how often meter values come, and which measurands they carry.
  post(
    'configuration',
    async (body) => {
      const key = requiredEnum(body, 'key', CONFIGURABLE);
      const value = requiredString(body, 'value', { max: 500, trim: true });
      if (SECONDS_KEYS.includes(key) && !/^\d{1,5}$/.test(value)) {
        throw invalidParam('value', `must be a whole number of seconds (0 to 99999) for ${key}`);
      }
      if (MEASURAND_KEYS.includes(key) && !MEASURAND_LIST.test(value)) {
        throw invalidParam(
          'value',
          'must be a comma-separated list of measurands, e.g. Energy.Active.Import.Register',
        );
      }
      return ['ChangeConfiguration', { key, value }];
    },
    ['key', 'value'],
  );

  router.get(
    '/charge-points/:id/configuration',
    read(deps, async ({ db, org, params, query }) => {
      const cp = found(await getChargePoint(db, org.id, params.id), params.id);
      const keys = queryString(query, 'keys');
      const list =
        keys === undefined
          ? []
          : keys
              .split(',')
              .map((k) => k.trim())
              .filter(Boolean);
      if (list.some((k) => k.length > 50))
        throw invalidParam('keys', 'must be keys of at most 50 characters');
      return send(deps, cp, 'GetConfiguration', list.length > 0 ? { key: list } : {});
    }),
  );

  // Stops a live session at its charge point; the StopTransaction that follows bills it as usual.
  router.post(
    '/sessions/:id/stop',
    act(deps, async ({ db, org, params, body: raw }) => {
      readBody(raw, []);
      const view = await getSessionView(db, org.id, params.id);
      if (!view) throw resourceMissing('session', params.id);
      const { session } = view;
      if (session.status !== 'active' && session.status !== 'starting') {
        throw new ApiError(
          409,
          'invalid_request_error',
          'session_not_active',
          `Session ${session.id} is ${session.status}; only a live session can be stopped.`,
        );
      }
      const cp = found(await getChargePoint(db, org.id, session.charge_point_id), session.charge_point_id);
      return send(deps, cp, 'RemoteStopTransaction', { transactionId: session.transaction_id });
    }),
  );
}
