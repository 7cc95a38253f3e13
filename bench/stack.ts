// What every end-to-end bench starts: its own database, the Temporal dev server on a SQLite file (durable,
// as `npm start` runs it), the Stripe fake and the project's worker; and what it stops afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createBillingWorker } from '../bin/worker';
import { createDb, dropDatabase, ensureDatabase, migrateLatest } from '../db/knex';
import { createSmtpMailer } from '../notifications/mailer';
import { type FakeStripe, type FakeStripeOptions, startFakeStripe } from '../payments/fake-stripe';
import type { PaymentProvider } from '../payments/port';
import { createStripeClient, createStripeProvider } from '../payments/stripe-adapter';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export interface BenchStack {
  dir: string;
  db: Knex;
  env: TestWorkflowEnvironment;
  fake: FakeStripe;
  worker: Worker;
  stop(): Promise<void>;
}

export async function startBenchStack(opts: {
  name: string;
  taskQueue: string;
  fake?: FakeStripeOptions;
  /** Wraps the worker's payment provider (e.g. to count calls). */
  payments?: (provider: PaymentProvider) => PaymentProvider;
  logLevel?: 'ERROR' | 'WARN';
}): Promise<BenchStack> {
  process.env.LOG_LEVEL ??= 'error';
  Runtime.install({ logger: new DefaultLogger(opts.logLevel ?? 'ERROR') });
  const dir = mkdtempSync(path.join(os.tmpdir(), `ev-bench-${opts.name}-`));
  const dbUrl = `postgres://postgres@127.0.0.1:5432/ev_billing_bench_${opts.name}_${process.pid}`;
  await ensureDatabase(dbUrl);
  const db = createDb(dbUrl, { min: 0, max: 20 });
  await migrateLatest(db);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: path.resolve(__dirname, '../../.tools/bin/temporal') },
      dbFilename: path.join(dir, 'temporal.db'),
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error'],
    },
  });
  const fake = await startFakeStripe(opts.fake);
  const provider = createStripeProvider(
    createStripeClient({ secretKey: 'sk_test_bench', apiBase: fake.url }),
  );
  const worker = await createBillingWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: opts.taskQueue,
    db,
    payments: opts.payments ? opts.payments(provider) : provider,
    // Benches send no e-mail; nothing listens here.
    mailer: createSmtpMailer({ url: 'smtp://127.0.0.1:9', from: 'bench@localhost' }),
    seller: { name: 'Bench', address: [] },
  });
  const running = worker.run();
  return {
    dir,
    db,
    env,
    fake,
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await fake.close();
      await env.teardown();
      await db.destroy();
      await dropDatabase(dbUrl);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
