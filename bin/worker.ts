import { NativeConnection, Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../activities';
import type { WebhookDeliveryConfig } from '../activities/webhook-delivery';
import { loadConfig, loadDotEnv } from '../config/env';
import { logger } from '../config/logger';
import { createDb } from '../db/knex';
import type { Party } from '../documents/billing-document';
import { createSmtpMailer, Mailer } from '../notifications/mailer';
import type { PaymentProvider } from '../payments/port';
import type { ProviderRecords } from '../payments/provider-records';
import { createStripeRecords } from '../payments/stripe-records';
import { createStripeClient, createStripeProvider } from '../payments/stripe-adapter';
import { onShutdown } from './shutdown';

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Knex;
  payments: PaymentProvider;
  mailer: Mailer;
  seller: Party;
  invoiceGraceMs?: number;
  webhooks?: Partial<WebhookDeliveryConfig>;
  /** The provider's own records, for reconciliation. */
  records?: ProviderRecords;
}

export async function createBillingWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities(deps),
  });
}

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporalAddress ?? '127.0.0.1:7233' });
  const stripe = createStripeClient({ secretKey: config.stripeSecretKey, apiBase: config.stripeApiBase });
  const worker = await createBillingWorker({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    db,
    payments: createStripeProvider(stripe),
    mailer: createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom }),
    seller: config.seller,
    invoiceGraceMs: config.invoiceGraceSeconds * 1000,
    webhooks: config.webhooks,
    records: createStripeRecords(stripe, { webhookSecret: config.stripeWebhookSecret }),
  });
  onShutdown(() => worker.shutdown());
  logger.info('worker running', { taskQueue: config.taskQueue, temporal: config.temporalAddress });
  await worker.run();
  await connection.close();
  await db.destroy();
}

if (require.main === module) {
  main().catch((err) => {
    logger.error('worker failed', { err });
    process.exit(1);
  });
}
