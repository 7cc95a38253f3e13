import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import type { WebhookDeliveryConfig } from '../../activities/webhook-delivery';
import { createBillingWorker } from '../../bin/worker';
import type { Mailer } from '../../notifications/mailer';
import { startFakeStripe, FakeStripe } from '../../payments/fake-stripe';
import type { PaymentProvider } from '../../payments/port';
import type { ProviderRecords } from '../../payments/provider-records';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';
import { createStripeRecords } from '../../payments/stripe-records';

export interface RunningWorker {
  worker: Worker;
  fake: FakeStripe;
  /** Stripe's records (lists, webhook verification) read from the same fake. */
  records: ProviderRecords;
  /** The port the worker pays through, for the API's own calls (paying a debt). */
  payments: PaymentProvider;
  taskQueue: string;
  stop(): Promise<void>;
}

/** The project's real worker (workflows + activities) against the test server, paying through the Stripe fake. */
export const TEST_SELLER = {
  name: 'Stromwerk Laden GmbH',
  address: ['Königsallee 1', '40212 Düsseldorf', 'DE'],
  vatNumber: 'DE811111111',
};

/** What the fake would sign webhooks with if a test points it at an endpoint. */
export const TEST_WEBHOOK_SECRET = 'whsec_test_integration';

/** Tests that do not read e-mail: messages are dropped after the mailer accepts them. */
const discardingMailer: Mailer = { send: async (mail) => ({ messageId: `<${mail.key}@discarded>` }) };

export async function startWorker(
  env: TestWorkflowEnvironment,
  db: Knex,
  taskQueue: string,
  opts: { mailer?: Mailer; stripeTimeoutMs?: number; webhooks?: Partial<WebhookDeliveryConfig> } = {},
): Promise<RunningWorker> {
  const fake = await startFakeStripe();
  const stripe = createStripeClient({
    secretKey: 'sk_test_integration',
    apiBase: fake.url,
    timeoutMs: opts.stripeTimeoutMs,
  });
  const payments = createStripeProvider(stripe);
  const records = createStripeRecords(stripe, { webhookSecret: TEST_WEBHOOK_SECRET });
  const worker = await createBillingWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    db,
    payments,
    mailer: opts.mailer ?? discardingMailer,
    seller: TEST_SELLER,
    invoiceGraceMs: 0,
    webhooks: opts.webhooks,
    records,
  });
  const running = worker.run();
  return {
    worker,
    fake,
    records,
    payments,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await fake.close();
    },
  };
}
