import { Client, Connection } from '@temporalio/client';
import type { Server } from 'node:http';
import type { Knex } from 'knex';
import { createApp } from '../api/app';
import { loadConfig, loadDotEnv } from '../config/env';
import { logger } from '../config/logger';
import { createDb, migrateLatest } from '../db/knex';
import { createAuthenticator } from '../ocpp/billing/authenticate';
import { createCommandRelay } from '../ocpp/billing/command-relay';
import { createEntitlementCache } from '../ocpp/billing/entitlements';
import { createMeterRelay } from '../ocpp/billing/meter-relay';
import { createBillingHandlers } from '../ocpp/billing/handlers';
import { createSessionBridge } from '../ocpp/billing/session-bridge';
import { ChargePointUnavailable, OcppServer, startOcppServer } from '../ocpp/server';
import type { ChargePointLink } from '../api/deps';
import type { Party } from '../documents/billing-document';
import { backfillBillingSchedule, ensureAllBillingSchedules } from '../api/billing-schedules';
import { createExemptionWorkflows } from '../api/exemption-workflows';
import { createInvoiceWorkflows } from '../api/invoice-workflows';
import { createPayoutWorkflows } from '../api/payout-workflows';
import { createWebhookControl } from '../api/webhook-control';
import { createPreAuthorizationControl } from '../api/remote-start-hold';
import { DEFAULT_WEBHOOK_DELIVERY } from '../activities/webhook-delivery';
import type { RetryPolicy } from '../db/repositories/webhookDeliveries';
import type { PaymentProvider } from '../payments/port';
import type { ProviderRecords } from '../payments/provider-records';
import { createStripeClient, createStripeProvider } from '../payments/stripe-adapter';
import { createStripeRecords } from '../payments/stripe-records';
import { createOutboxRelay } from '../webhooks/outbox-relay';
import { createReconciliationWorkflows } from '../api/reconciliation-workflows';
import { DEFAULT_RECONCILIATION_LAG_SECONDS } from '../workflows/reconciliation/messages';
import { onShutdown } from './shutdown';

export interface ServerDeps {
  db: Knex;
  client: Client;
  taskQueue: string;
  host: string;
  apiPort: number;
  ocppPort: number;
  exemptionRemindAfterSeconds?: number;
  exemptionExpireAfterSeconds?: number;
  invoiceGraceSeconds?: number;
  /** Settlement lag of reconciliations, on demand and daily (default 2 hours). */
  reconciliationLagSeconds?: number;
  /** The operator, printed as the seller on receipt PDFs. */
  seller?: Party;
  /** Accounting webhook delivery timings; deliveries are relayed from the outbox by this process. */
  webhooks?: { retry: RetryPolicy; timeoutMs: number };
  /** Verifies the payment provider's webhooks. */
  providerRecords?: ProviderRecords;
  /** Charges drivers' debts when they pay them through the API. */
  payments?: PaymentProvider;
  /** How long a remote start's hold waits for its StartTransaction (seconds, default 180). */
  preAuthorizationTimeoutSeconds?: number;
}

export interface RunningServer {
  apiUrl: string;
  ocppUrl: string;
  ocpp: OcppServer;
  close(): Promise<void>;
}

/** The API and the OCPP bridge: both only translate the outside world into Temporal calls and reads. */
export async function startBillingServer(deps: ServerDeps): Promise<RunningServer> {
  const webhookTimings = deps.webhooks ?? {
    retry: DEFAULT_WEBHOOK_DELIVERY.retry,
    timeoutMs: DEFAULT_WEBHOOK_DELIVERY.timeoutMs,
  };
  const sessions = createSessionBridge(deps.client, deps.taskQueue);
  // The API starts first; until the bridge listens, no charge point is connected.
  const bridge: { server?: OcppServer } = {};
  const chargePoints: ChargePointLink = {
    isConnected: (identity) => bridge.server?.isConnected(identity) ?? false,
    sendCall: (identity, action, payload, timeoutMs) =>
      bridge.server
        ? bridge.server.sendCall(identity, action, payload, timeoutMs)
        : Promise.reject(new ChargePointUnavailable('offline', 'The OCPP bridge is not listening yet')),
  };
  const app = createApp({
    db: deps.db,
    runningCost: (id) => sessions.runningCost(id),
    chargePoints,
    log: logger,
    seller: deps.seller,
    exemptions: createExemptionWorkflows(deps.client, {
      taskQueue: deps.taskQueue,
      remindAfterMs: (deps.exemptionRemindAfterSeconds ?? 3 * 24 * 3600) * 1000,
      expireAfterMs: (deps.exemptionExpireAfterSeconds ?? 14 * 24 * 3600) * 1000,
    }),
    invoices: createInvoiceWorkflows(deps.client, {
      taskQueue: deps.taskQueue,
      graceMs: (deps.invoiceGraceSeconds ?? 3 * 24 * 3600) * 1000,
    }),
    payouts: createPayoutWorkflows(deps.client, { taskQueue: deps.taskQueue }),
    reconciliations: createReconciliationWorkflows(deps.client, {
      taskQueue: deps.taskQueue,
      lagSeconds: deps.reconciliationLagSeconds ?? DEFAULT_RECONCILIATION_LAG_SECONDS,
    }),
    schedules: { backfill: (org, from, to) => backfillBillingSchedule(deps.client, org, from, to) },
    webhooks: createWebhookControl(deps.client, { taskQueue: deps.taskQueue, ...webhookTimings }),
    providerRecords: deps.providerRecords,
    payments: deps.payments,
    sessions,
    preAuthorizations: createPreAuthorizationControl(deps.client, {
      taskQueue: deps.taskQueue,
      timeoutMs: (deps.preAuthorizationTimeoutSeconds ?? 180) * 1000,
    }),
  });
  // Each organization's monthly schedule; an organization created later gets its schedule at the next start.
  try {
    const count = await ensureAllBillingSchedules(deps.client, deps.db, {
      taskQueue: deps.taskQueue,
      reconciliationLagSeconds: deps.reconciliationLagSeconds,
    });
    logger.info('billing schedules in place', { organizations: count });
  } catch (err) {
    logger.warn('billing schedules not checked; they will be at the next start', { err });
  }
  const http: Server = await new Promise((resolve, reject) => {
    const s = app.listen(deps.apiPort, deps.host, () => resolve(s));
    s.on('error', reject);
  });
  const address = http.address();
  const apiPort = typeof address === 'object' && address ? address.port : deps.apiPort;
  const ocppLog = logger.child({ component: 'ocpp' });
  // Loaded before the first charge point connects, so Authorize never waits on the database.
  const entitlements = createEntitlementCache(deps.db, { log: ocppLog });
  await entitlements.start();
  const meterRelay = createMeterRelay(deps.db, sessions, { log: ocppLog });
  meterRelay.start();
  const ocpp = await startOcppServer({
    port: deps.ocppPort,
    host: deps.host,
    authenticate: createAuthenticator(deps.db),
    handlers: createBillingHandlers({
      db: deps.db,
      sessions,
      entitlements,
      meterRelay,
      heartbeatIntervalSeconds: 300,
    }),
    log: ocppLog,
  });
  bridge.server = ocpp;
  // Calls a workflow asked for (e.g. stop charging after a declined hold), for the charge points held here.
  const relay = createCommandRelay(deps.db, ocpp, { log: ocppLog });
  await relay.start();
  const outbox = createOutboxRelay({
    db: deps.db,
    client: deps.client,
    taskQueue: deps.taskQueue,
    retry: webhookTimings.retry,
    log: logger.child({ component: 'webhooks' }),
  });
  await outbox.start();
  return {
    apiUrl: `http://${deps.host}:${apiPort}/api/v1/billing`,
    ocppUrl: ocpp.url,
    ocpp,
    async close() {
      await outbox.close();
      await relay.close();
      await ocpp.close();
      await meterRelay.close();
      await entitlements.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  if (process.env.MIGRATE_ON_START === 'true') await migrateLatest(db);
  const connection = await Connection.connect({ address: config.temporalAddress ?? '127.0.0.1:7233' });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const stripe = createStripeClient({ secretKey: config.stripeSecretKey, apiBase: config.stripeApiBase });
  const server = await startBillingServer({
    db,
    client,
    taskQueue: config.taskQueue,
    host: config.host,
    apiPort: config.apiPort,
    ocppPort: config.ocppPort,
    exemptionRemindAfterSeconds: config.exemptionRemindAfterSeconds,
    exemptionExpireAfterSeconds: config.exemptionExpireAfterSeconds,
    invoiceGraceSeconds: config.invoiceGraceSeconds,
    seller: config.seller,
    webhooks: config.webhooks,
    providerRecords: createStripeRecords(stripe, { webhookSecret: config.stripeWebhookSecret }),
    payments: createStripeProvider(stripe),
    preAuthorizationTimeoutSeconds: config.preAuthorizationTimeoutSeconds,
  });
  logger.info('server listening', { api: server.apiUrl, ocpp: server.ocppUrl });
  onShutdown(async () => {
    await server.close();
    await connection.close();
    await db.destroy();
    process.exit(0);
  });
}

if (require.main === module) {
  main().catch((err) => {
    logger.error('server failed', { err });
    process.exit(1);
  });
}
