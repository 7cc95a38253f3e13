import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PricedSession } from '../../pricing/session-price';

// Message types are versioned by name: a breaking change adds a new signal instead of changing this one.

/** Input of the charging-session workflow, built by the OCPP bridge from StartTransaction. */
export interface ChargingSessionInput {
  sessionId: string;
  organizationId: string;
  chargePointId: string;
  chargePointIdentity: string;
  connectorId: number;
  transactionId: number;
  idTag: string;
  meterStartWh: string;
  startedAt: string;
}

/** Readings of one MeterValues message that pricing needs; energy register in Wh. */
export interface MeterReading {
  timestamp: string;
  energyWh?: string;
  powerW?: string;
  currentA?: string;
  soc?: string;
}

/** A StatusNotification of the session's connector: pricing tells charging from idle time with it. */
export interface ConnectorStatusV1 {
  timestamp: string;
  status: string;
}

export interface StopTransactionV1 {
  meterStopWh: string;
  timestamp: string;
  reason?: string;
  idTag?: string;
}

export type SessionPhase = 'starting' | 'active' | 'stopping' | 'completed' | 'unbilled';

/** What the running-cost query answers: priced with the same function as the receipt. */
export interface RunningCost {
  phase: SessionPhase;
  asOf: string;
  priced: PricedSession | null;
}

export const meterValuesSignal = defineSignal<[MeterReading[]]>('meterValuesV1');
export const connectorStatusSignal = defineSignal<[ConnectorStatusV1]>('connectorStatusV1');
export const stopTransactionSignal = defineSignal<[StopTransactionV1]>('stopTransactionV1');
export const runningCostQuery = defineQuery<RunningCost>('runningCostV1');

/** A contactless terminal's authorization for this session, linked through the API; captured at the end. */
export interface TerminalPaymentV1 {
  paymentId: string;
  amountAuthorized: string;
  currency: string;
}
export const terminalPaymentSignal = defineSignal<[TerminalPaymentV1]>('terminalPaymentV1');

export function chargingSessionWorkflowId(chargePointIdentity: string, transactionId: number): string {
  return `charging-session:${chargePointIdentity}:${transactionId}`;
}
