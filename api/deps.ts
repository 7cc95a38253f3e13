import type { Knex } from 'knex';
import type { Logger } from '../config/logger';
import type { SessionBridge } from '../ocpp/billing/session-bridge';
import type { PaymentProvider } from '../payments/port';
import type { ProviderRecords } from '../payments/provider-records';
import type { PreAuthorizationControl } from './remote-start-hold';
import type { WebhookControl } from './webhook-control';
import type { Party } from '../documents/billing-document';
import type { RunningCost } from '../workflows/charging-session/messages';
import type { ExemptionWorkflows } from './exemption-workflows';
import type { InvoiceWorkflows } from './invoice-workflows';
import type { PayoutWorkflows } from './payout-workflows';
import type { ReconciliationWorkflows } from './reconciliation-workflows';

/** The OCPP bridge as the API sees it: who is connected here, and central-system calls to them. */
export interface ChargePointLink {
  isConnected(identity: string): boolean;
  /** Rejects with ChargePointUnavailable (offline, timeout) or OcppError (the charge point's CALLERROR). */
  sendCall(identity: string, action: string, payload: object, timeoutMs?: number): Promise<object>;
}

export interface AppDeps {
  db: Knex;
  /** Asks the session's workflow for its running cost; undefined when the workflow does not know it. */
  runningCost: (workflowId: string) => Promise<RunningCost | undefined>;
  log?: Logger;
  /** The bridge in this process, if any; commands for charge points it does not hold go through the queue. */
  chargePoints?: ChargePointLink;
  /** How long a command waits for the charge point's answer (default 10000). */
  commandTimeoutMs?: number;
  /** How long a session read waits for the running cost before answering without it (default 2000). */
  runningCostTimeoutMs?: number;
  /** The operator, printed as the seller on receipt PDFs. */
  seller?: Party;
  /** Starts and decides exemption workflows; without it the exemption routes answer 503. */
  exemptions?: ExemptionWorkflows;
  /** Starts invoice closings (backfills); without it POST .../invoices/close answers 503. */
  invoices?: InvoiceWorkflows;
  /** Starts revenue-sharing payouts; without it POST /revenue-parties/{id}/payouts answers 503. */
  payouts?: PayoutWorkflows;
  /** Runs reconciliations; without it POST /reconciliations answers 503. */
  reconciliations?: ReconciliationWorkflows;
  /** The organizations' monthly schedules; without it the backfill route answers 503. */
  schedules?: ScheduleControl;
  /** Wakes webhook delivery; without it replays, pings and re-enabling answer 503. */
  webhooks?: WebhookControl;
  /** Verifies payment-provider webhooks; without it the provider's webhook route answers 503. */
  providerRecords?: ProviderRecords;
  /** Charges a driver's debt on request; without it POST /debts/{id}/pay answers 503. */
  payments?: PaymentProvider;
  /** Links a terminal's authorization to a running session; without it that route answers 503. */
  sessions?: Pick<SessionBridge, 'linkTerminalPayment'>;
  /** Holds money before a remote start; without it (or `payments`) remote starts hold nothing. */
  preAuthorizations?: PreAuthorizationControl;
}

export interface ScheduleControl {
  /** Re-runs the monthly schedule for the months from..to; answers the number of runs. */
  backfill(org: { id: string; timeZone: string }, from: string, to: string): Promise<number>;
}

export interface ResolvedDeps {
  db: Knex;
  runningCost: (workflowId: string) => Promise<RunningCost | undefined>;
  log: Logger;
  chargePoints?: ChargePointLink;
  commandTimeoutMs?: number;
  runningCostTimeoutMs: number;
  seller?: Party;
  exemptions?: ExemptionWorkflows;
  invoices?: InvoiceWorkflows;
  payouts?: PayoutWorkflows;
  reconciliations?: ReconciliationWorkflows;
  schedules?: ScheduleControl;
  webhooks?: WebhookControl;
  providerRecords?: ProviderRecords;
  payments?: PaymentProvider;
  sessions?: Pick<SessionBridge, 'linkTerminalPayment'>;
  preAuthorizations?: PreAuthorizationControl;
}
