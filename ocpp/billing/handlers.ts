import type { Knex } from 'knex';
import {
  findConnectorStatus,
  recordBootNotification,
  recordHeartbeat,
  upsertConnectorStatus,
} from '../../db/repositories/chargePoints';
import {
  allocateTransaction,
  findLiveSessionOnConnector,
  findSessionByTransaction,
} from '../../db/repositories/sessions';
import { chargingSessionWorkflowId } from '../../workflows/charging-session/messages';
import { OcppError } from '../errors';
import type { HandlerContext, HandlerMap } from '../server';
import { recordOrphanStop } from '../../db/repositories/orphanSessions';
import { databaseEntitlements, EntitlementCache } from './entitlements';
import type { MeterRelay } from './meter-relay';
import { extractReadings, MeterValue, meterValuesProblem } from './meter-values';
import type { SessionBridge } from './session-bridge';

/** A vendor's DataTransfer messages; it answers UnknownMessageId itself for ids it does not know. */
export type DataTransferVendor = (
  req: { messageId?: string; data?: string },
  ctx: HandlerContext,
) => Promise<{ status: 'Accepted' | 'Rejected' | 'UnknownMessageId'; data?: string }>;

export interface BillingHandlerDeps {
  db: Knex;
  sessions: SessionBridge;
  heartbeatIntervalSeconds: number;
  now?: () => Date;
  /** Answers Authorize and StartTransaction from memory; without it every lookup reads the database. */
  entitlements?: Pick<EntitlementCache, 'idTagInfo'>;
  /** Acknowledges MeterValues once stored and relays them in batches; without it each one is a signal. */
  meterRelay?: Pick<MeterRelay, 'accept' | 'flush'>;
  /** By vendorId; every other vendor is answered UnknownVendorId, as OCPP 1.6 section 4.3 asks. */
  dataTransferVendors?: Record<string, DataTransferVendor>;
}

// Payloads arrive already validated against the OCPP 1.6 schemas, so the fields below are present and typed.
interface BootNotificationReq {
  chargePointVendor: string;
  chargePointModel: string;
  chargePointSerialNumber?: string;
  chargeBoxSerialNumber?: string;
  firmwareVersion?: string;
}
interface StatusNotificationReq {
  connectorId: number;
  status: string;
  errorCode: string;
  info?: string;
  timestamp?: string;
}
interface StartTransactionReq {
  connectorId: number;
  idTag: string;
  meterStart: number;
  timestamp: string;
  reservationId?: number;
}
interface StopTransactionReq {
  transactionId: number;
  meterStop: number;
  timestamp: string;
  idTag?: string;
  reason?: string;
  transactionData?: MeterValue[];
}

const KNOWN_SESSIONS = 10_000;

/**
 * OCPP 1.6 handlers for what billing needs. StartTransaction and StopTransaction answer only after Temporal
 * accepted them; MeterValues once their readings are stored (meter-relay.ts), or signalled without a relay.
 */

export function createBillingHandlers(deps: BillingHandlerDeps): HandlerMap {
  const { db, sessions } = deps;
  const now = deps.now ?? (() => new Date());

  // Best effort: without statuses pricing still finds the end of charging from the energy register.
  const deliverStatus = (ctx: HandlerContext, workflowId: string, status: string, at: Date) =>
    sessions.sendStatus(workflowId, { timestamp: at.toISOString(), status }).catch((err: unknown) => {
      ctx.log.warn('connector status not delivered to its session', {
        workflowId,
        error: err instanceof Error ? err.message : String(err),
      });
      return false;
    });

  const entitlements = deps.entitlements ?? databaseEntitlements(db);
  const tagInfo = (ctx: HandlerContext, idTag: string, concurrency: boolean) =>
    entitlements.idTagInfo(
      { organizationId: ctx.chargePoint.organizationId, chargePointId: ctx.chargePoint.id, concurrency },
      idTag,
      now(),
    );

  const sessionFor = async (ctx: HandlerContext, transactionId: number) =>
    findSessionByTransaction(db, ctx.chargePoint.id, transactionId);

  // MeterValues need only a session's id and workflow id, which never change: remembered per charge point
  // and transaction so the hot path costs one INSERT. Bounded; the oldest entries go first.
  const known = new Map<string, { id: string; workflow_id: string }>();
  const liveSessionFor = async (ctx: HandlerContext, transactionId: number) => {
    const key = `${ctx.chargePoint.id}:${transactionId}`;
    const hit = known.get(key);
    if (hit) return hit;
    const session = await sessionFor(ctx, transactionId);
    if (session) {
      if (known.size >= KNOWN_SESSIONS) known.delete(known.keys().next().value!);
      known.set(key, { id: session.id, workflow_id: session.workflow_id });
    }
    return session;
  };

  return {
    async BootNotification(p: BootNotificationReq, ctx) {
      await recordBootNotification(db, ctx.chargePoint.id, {
        vendor: p.chargePointVendor,
        model: p.chargePointModel,
        serialNumber: p.chargePointSerialNumber ?? p.chargeBoxSerialNumber,
        firmwareVersion: p.firmwareVersion,
        at: now(),
      });
      return {
        status: 'Accepted',
        currentTime: now().toISOString(),
        interval: deps.heartbeatIntervalSeconds,
      };
    },

    async Heartbeat(_p: object, ctx) {
      await recordHeartbeat(db, ctx.chargePoint.id, now());
      return { currentTime: now().toISOString() };
    },

    async StatusNotification(p: StatusNotificationReq, ctx) {
      await upsertConnectorStatus(db, ctx.chargePoint.id, {
        connectorId: p.connectorId,
        status: p.status,
        errorCode: p.errorCode,
        info: p.info,
        at: p.timestamp ? new Date(p.timestamp) : now(),
      });
      const live =
        p.connectorId > 0 && (await findLiveSessionOnConnector(db, ctx.chargePoint.id, p.connectorId));
      if (live)
        await deliverStatus(ctx, live.workflow_id, p.status, p.timestamp ? new Date(p.timestamp) : now());
      return {};
    },

    async Authorize(p: { idTag: string }, ctx) {
      return { idTagInfo: await tagInfo(ctx, p.idTag, true) };
    },

    async StartTransaction(p: StartTransactionReq, ctx) {
      const idTagInfo = await tagInfo(ctx, p.idTag, false);
      const session = await allocateTransaction(db, {
        organizationId: ctx.chargePoint.organizationId,
        chargePointId: ctx.chargePoint.id,
        chargePointIdentity: ctx.chargePoint.identity,
        connectorId: p.connectorId,
        idTag: p.idTag,
        meterStartWh: String(p.meterStart),
        startedAt: new Date(p.timestamp),
        workflowIdFor: (txId) => chargingSessionWorkflowId(ctx.chargePoint.identity, txId),
      });
      // The session is started even for a tag we refuse: the charge point may deliver energy anyway, and
      // that energy must be accounted for; the workflow finds no payer and records the amount as due.
      await sessions.start(session.workflow_id, {
        sessionId: session.id,
        organizationId: session.organization_id,
        chargePointId: ctx.chargePoint.id,
        chargePointIdentity: ctx.chargePoint.identity,
        connectorId: session.connector_id,
        transactionId: session.transaction_id,
        idTag: session.id_tag,
        meterStartWh: session.meter_start_wh,
        startedAt: new Date(session.started_at).toISOString(),
      });
      // Charge points report Charging around StartTransaction, often just before it: the session is told
      // the connector's state at its start so it can tell charging from idle time.
      const connector = await findConnectorStatus(db, ctx.chargePoint.id, session.connector_id);
      if (connector) await deliverStatus(ctx, session.workflow_id, connector.status, connector.at);
      return { transactionId: session.transaction_id, idTagInfo };
    },

    async MeterValues(p: { connectorId: number; transactionId?: number; meterValue: MeterValue[] }, ctx) {
      const problem = meterValuesProblem(p.meterValue, now());
      if (problem) {
        ctx.log.warn('MeterValues refused', { transactionId: p.transactionId, problem });
        throw new OcppError('PropertyConstraintViolation', problem);
      }
      if (p.transactionId === undefined) return {};
      const session = await liveSessionFor(ctx, p.transactionId);
      const readings = extractReadings(p.meterValue);
      let delivered = false;
      if (session && deps.meterRelay) {
        await deps.meterRelay.accept(session, readings);
        delivered = true;
      } else if (session) {
        delivered = await sessions.sendReadings(session.workflow_id, readings);
      }
      if (!delivered) {
        ctx.log.warn('meter values for a transaction with no running session', {
          transactionId: p.transactionId,
        });
      }
      return {};
    },

    async DataTransfer(p: { vendorId: string; messageId?: string; data?: string }, ctx) {
      const vendor = Object.hasOwn(deps.dataTransferVendors ?? {}, p.vendorId)
        ? deps.dataTransferVendors![p.vendorId]
        : undefined;
      if (!vendor) {
        ctx.log.info('DataTransfer from an unknown vendor', { vendorId: p.vendorId, messageId: p.messageId });
        return { status: 'UnknownVendorId' };
      }
      return vendor({ messageId: p.messageId, data: p.data }, ctx);
    },

    async StopTransaction(p: StopTransactionReq, ctx) {
      const session = await sessionFor(ctx, p.transactionId);
      if (!session) {
        // Acknowledged so the charge point stops resending it; recorded for the operator to resolve.
        const orphan = await recordOrphanStop(db, {
          organizationId: ctx.chargePoint.organizationId,
          chargePointId: ctx.chargePoint.id,
          transactionId: p.transactionId,
          idTag: p.idTag ?? null,
          meterStopWh: String(p.meterStop),
          stoppedAt: new Date(p.timestamp),
          stopReason: p.reason ?? null,
          transactionData: p.transactionData,
        });
        ctx.log.warn('StopTransaction for an unknown transaction; recorded as an orphan session', {
          transactionId: p.transactionId,
          meterStop: p.meterStop,
          orphanSessionId: orphan.id,
        });
      } else {
        // Stored readings first: a session must never be priced before readings it acknowledged.
        await deps.meterRelay?.flush(session.workflow_id);
        if (p.transactionData?.length)
          await sessions.sendReadings(session.workflow_id, extractReadings(p.transactionData));
        const delivered = await sessions.stop(session.workflow_id, {
          meterStopWh: String(p.meterStop),
          timestamp: new Date(p.timestamp).toISOString(),
          reason: p.reason,
          idTag: p.idTag,
        });
        if (!delivered)
          ctx.log.info('StopTransaction resent for a finished session', { transactionId: p.transactionId });
      }
      if (p.idTag === undefined) return {};
      return { idTagInfo: await tagInfo(ctx, p.idTag, false) };
    },
  };
}
