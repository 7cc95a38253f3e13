import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createBillingWorker } from '../../bin/worker';
import { startFakeStripe, FakeStripe } from '../../payments/fake-stripe';
import { createStripeClient, createStripeProvider } from '../../payments/stripe-adapter';

export interface RunningWorker {
  worker: Worker;
  fake: FakeStripe;
  taskQueue: string;
  stop(): Promise<void>;
}

/** The project's real worker (workflows + activities) against the test server, paying through the Stripe fake. */
export async function startWorker(
  env: TestWorkflowEnvironment,
  db: Knex,
  taskQueue: string,
): Promise<RunningWorker> {
  const fake = await startFakeStripe();
  const stripe = createStripeClient({ secretKey: 'sk_test_integration', apiBase: fake.url });
  const worker = await createBillingWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    db,
    payments: createStripeProvider(stripe),
  });
  const running = worker.run();
  return {
    worker,
    fake,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await fake.close();
    },
  };
}
