import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_WEBHOOK_DELIVERY, type WebhookDeliveryConfig } from '../../activities/webhook-delivery';
import { createApp } from '../../api/app';
import { createWebhookControl } from '../../api/webhook-control';
import { createLogger } from '../../config/logger';
import { createOutboxRelay, type OutboxRelay } from '../../webhooks/outbox-relay';
import { backfillBillingSchedule } from '../../api/billing-schedules';
import { createExemptionWorkflows } from '../../api/exemption-workflows';
import { createInvoiceWorkflows } from '../../api/invoice-workflows';
import { createPayoutWorkflows } from '../../api/payout-workflows';
import { createReconciliationWorkflows } from '../../api/reconciliation-workflows';
import { createMember } from '../../db/repositories/members';
import { createApiKey } from '../../db/repositories/organizations';
import { findReceiptBySession } from '../../db/repositories/receipts';
import { allocateTransaction } from '../../db/repositories/sessions';
import { createSessionBridge, SessionBridge } from '../../ocpp/billing/session-bridge';
import { chargingSessionWorkflowId } from '../../workflows/charging-session/messages';
import { listen, request } from '../api/helpers';
import { createTestDatabase, TestDatabase } from './database';
import { Fixture, insertBillingFixture } from './fixtures';
import { SmtpCatcher, startSmtpCatcher } from './smtp';
import { startTemporal } from './temporal';
import { RunningWorker, startWorker, TEST_SELLER } from './worker';

export type Role = 'owner' | 'admin' | 'billing';
export type Call = (method: string, path: string, body?: unknown) => ReturnType<typeof request>;

/** What the long-running billing workflows need in a test: the real stack, the API, and an organization. */
export interface BillingStack {
  tdb: TestDatabase;
  env: TestWorkflowEnvironment;
  running: RunningWorker;
  smtp: SmtpCatcher;
  bridge: SessionBridge;
  baseUrl: string;
  fx: Fixture;
  memberIds: Record<Role, string>;
  /** API calls with a key of a member of that role. */
  as(role: Role): Call;
  /** A GET answered with a file (PDF), as the owner. */
  download(path: string): Promise<Response>;
  /** Webhook timings, read at each delivery round and replay: a test may change them in place. */
  webhooks: WebhookDeliveryConfig;
  /** Moves committed events to their endpoints (runs beside the API, as in bin/server). */
  outbox: OutboxRelay;
  /** Read by the API at each request, so a test can shorten them. */
  timers: {
    taskQueue: string;
    remindAfterMs: number;
    expireAfterMs: number;
    graceMs: number;
    lagSeconds: number;
  };
  /** A session on the fixture's charge point, started and stopped through its workflow, with its receipt. */
  billedSession(opts: {
    stoppedAt: Date;
    wh?: number;
    minutes?: number;
  }): Promise<{ sessionId: string; total: string }>;
}

export function useBillingStack(
  label: string,
  taskQueue: string,
  /** The driver's card (null: postpaid) and the tariff's full form (e.g. with VAT). */
  fixture: Pick<Parameters<typeof insertBillingFixture>[1], 'paymentMethodId' | 'definition'> = {},
): BillingStack {
  const stack = {
    webhooks: {
      ...DEFAULT_WEBHOOK_DELIVERY,
      retry: { baseMs: 200, maxMs: 1_000, windowMs: 60_000 },
      disableAfterMs: 60_000,
      timeoutMs: 2_000,
    },
    memberIds: {},
    timers: { taskQueue, remindAfterMs: 60_000, expireAfterMs: 120_000, graceMs: 0, lagSeconds: 7200 },
  } as BillingStack;
  const keys = {} as Record<Role, string>;
  let server: Server | undefined;

  beforeAll(async () => {
    stack.tdb = await createTestDatabase(label);
    stack.env = await startTemporal();
    stack.smtp = await startSmtpCatcher();
    stack.running = await startWorker(stack.env, stack.tdb.db, taskQueue, {
      mailer: stack.smtp.mailer,
      stripeTimeoutMs: 500,
      webhooks: stack.webhooks,
    });
    const webhookOptions = { taskQueue, retry: stack.webhooks.retry, idleMs: 5_000 };
    stack.outbox = createOutboxRelay({
      db: stack.tdb.db,
      client: stack.env.client,
      log: createLogger({ component: 'webhooks' }, 'error'),
      sweepMs: 500,
      ...webhookOptions,
    });
    await stack.outbox.start();
    stack.bridge = createSessionBridge(stack.env.client, taskQueue);
    stack.fx = await insertBillingFixture(stack.tdb.db, {
      identity: `CP-${label.toUpperCase()}`,
      idTag: `TAG-${label.toUpperCase()}`,
      ...fixture,
    });
    for (const role of ['owner', 'admin', 'billing'] as const) {
      const member = await createMember(stack.tdb.db, stack.fx.organizationId, {
        email: `${role}@org.example`,
        role,
      });
      stack.memberIds[role] = member.id;
      keys[role] = (await createApiKey(stack.tdb.db, stack.fx.organizationId, role, member.id)).secret;
    }
    const app = createApp({
      db: stack.tdb.db,
      runningCost: async () => undefined,
      seller: TEST_SELLER,
      exemptions: createExemptionWorkflows(stack.env.client, stack.timers),
      invoices: createInvoiceWorkflows(stack.env.client, stack.timers),
      payouts: createPayoutWorkflows(stack.env.client, stack.timers),
      reconciliations: createReconciliationWorkflows(stack.env.client, stack.timers),
      schedules: { backfill: (org, from, to) => backfillBillingSchedule(stack.env.client, org, from, to) },
      webhooks: createWebhookControl(stack.env.client, {
        ...webhookOptions,
        timeoutMs: stack.webhooks.timeoutMs,
      }),
      providerRecords: stack.running.records,
      payments: stack.running.payments,
      sessions: stack.bridge,
    });
    const listening = await listen(app);
    server = listening.server;
    stack.baseUrl = `${listening.url}/api/v1/billing`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await stack.outbox?.close();
    await stack.running?.stop();
    await stack.env?.teardown();
    await stack.smtp?.close();
    await stack.tdb?.drop();
  });

  stack.download = (path) =>
    fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${keys.owner}` } });
  stack.as = (role) => (method, path, body) =>
    request(stack.baseUrl, method, path, { key: keys[role], body });

  let connector = 0;
  stack.billedSession = async ({ stoppedAt, wh = 10_000, minutes = 30 }) => {
    const { fx, tdb, bridge, env } = stack;
    const startedAt = new Date(stoppedAt.getTime() - minutes * 60_000);
    // Distinct connectors keep sessions that start at the same instant apart.
    const connectorId = (connector++ % 50) + 1;
    const session = await allocateTransaction(tdb.db, {
      organizationId: fx.organizationId,
      chargePointId: fx.chargePointId,
      chargePointIdentity: fx.identity,
      connectorId,
      idTag: fx.idTag,
      meterStartWh: '0',
      startedAt,
      workflowIdFor: (tx) => chargingSessionWorkflowId(fx.identity, tx),
    });
    await bridge.start(session.workflow_id, {
      sessionId: session.id,
      organizationId: fx.organizationId,
      chargePointId: fx.chargePointId,
      chargePointIdentity: fx.identity,
      connectorId,
      transactionId: session.transaction_id,
      idTag: fx.idTag,
      meterStartWh: '0',
      startedAt: startedAt.toISOString(),
    });
    await bridge.stop(session.workflow_id, {
      meterStopWh: String(wh),
      timestamp: stoppedAt.toISOString(),
      reason: 'Local',
    });
    await env.client.workflow.getHandle(session.workflow_id).result();
    const receipt = (await findReceiptBySession(tdb.db, session.id))!.receipt;
    return { sessionId: session.id, total: receipt.total };
  };
  return stack;
}
