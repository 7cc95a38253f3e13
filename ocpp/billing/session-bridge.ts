import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import {
  ChargingSessionInput,
  connectorStatusSignal,
  ConnectorStatusV1,
  meterValuesSignal,
  MeterReading,
  RunningCost,
  runningCostQuery,
  stopTransactionSignal,
  StopTransactionV1,
  terminalPaymentSignal,
  type TerminalPaymentV1,
} from '../../workflows/charging-session/messages';
import { CHARGE_POINT_ID, ID_TAG, ORGANIZATION_ID, SESSION_STATUS } from '../../workflows/search-attributes';

/** The bridge's only way into Temporal; each call returns once Temporal durably accepted it. */
export interface SessionBridge {
  start(workflowId: string, input: ChargingSessionInput): Promise<void>;
  /** false when no such running session exists (already finished, or never started). */
  sendReadings(workflowId: string, readings: MeterReading[]): Promise<boolean>;
  stop(workflowId: string, stop: StopTransactionV1): Promise<boolean>;
  sendStatus(workflowId: string, status: ConnectorStatusV1): Promise<boolean>;
  runningCost(workflowId: string): Promise<RunningCost | undefined>;
  /** A contactless terminal's authorization for the session; false when the session is not running. */
  linkTerminalPayment(workflowId: string, payment: TerminalPaymentV1): Promise<boolean>;
}

export function createSessionBridge(client: Client, taskQueue: string): SessionBridge {
  const signal = async <T>(workflowId: string, send: () => Promise<T>): Promise<boolean> => {
    try {
      await send();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  };
  return {
    async start(workflowId, input) {
      try {
        await client.workflow.start('chargingSession', {
          taskQueue,
          workflowId,
          args: [input],
          // A finished session must never be started again by a late resend.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          memo: { sessionId: input.sessionId },
          typedSearchAttributes: [
            { key: CHARGE_POINT_ID, value: input.chargePointIdentity },
            { key: ORGANIZATION_ID, value: input.organizationId },
            { key: ID_TAG, value: input.idTag },
            { key: SESSION_STATUS, value: 'starting' },
          ],
        });
      } catch (err) {
        // The workflow id is the business id: a resent StartTransaction finds its session already running.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // ...but the same id for another session (transaction ids reused after a database reset while
        // Temporal kept its history) would silently leave the new session unbilled: refuse it loudly.
        const { memo } = await client.workflow.getHandle(workflowId).describe();
        if (memo?.sessionId !== input.sessionId) {
          throw new Error(
            `workflow ${workflowId} belongs to session ${String(memo?.sessionId)}, not ${input.sessionId}`,
            { cause: err },
          );
        }
      }
    },
    sendReadings: (workflowId, readings) =>
      signal(workflowId, () => client.workflow.getHandle(workflowId).signal(meterValuesSignal, readings)),
    stop: (workflowId, request) =>
      signal(workflowId, () => client.workflow.getHandle(workflowId).signal(stopTransactionSignal, request)),
    linkTerminalPayment: (workflowId, payment) =>
      signal(workflowId, () => client.workflow.getHandle(workflowId).signal(terminalPaymentSignal, payment)),
    sendStatus: (workflowId, status) =>
      signal(workflowId, () => client.workflow.getHandle(workflowId).signal(connectorStatusSignal, status)),
    async runningCost(workflowId) {
      try {
        return await client.workflow.getHandle(workflowId).query(runningCostQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },
  };
}
