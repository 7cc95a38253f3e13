// Runs the stateful Stripe fake as its own process for the local platform (`npm start` points the
// Stripe adapter at it). Not for production: it keeps everything in memory and accepts any sk_ key.
import { loadConfig, loadDotEnv } from '../config/env';
import { logger } from '../config/logger';
import { startFakeStripe } from '../payments/fake-stripe';

const DEFAULT_PORT = 12111;

function portFromEnv(): number {
  const raw = process.env.FAKE_STRIPE_PORT;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`FAKE_STRIPE_PORT must be a port number (0-65535), got ${JSON.stringify(raw)}`);
  }
  return port;
}

/** Events go to FAKE_STRIPE_WEBHOOK_URL, signed with the secret the API verifies them with. */
function webhookFromEnv(): { url: string; secret: string } | undefined {
  const url = process.env.FAKE_STRIPE_WEBHOOK_URL;
  if (!url) return undefined;
  return { url, secret: loadConfig().stripeWebhookSecret };
}

async function main(): Promise<void> {
  loadDotEnv();
  const webhook = webhookFromEnv();
  const fake = await startFakeStripe({ port: portFromEnv(), host: '127.0.0.1', webhook });
  logger.info('fake stripe listening', { url: fake.url, port: fake.port, webhookUrl: webhook?.url ?? null });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    fake.close().then(
      () => {
        logger.info('fake stripe stopped', { signal });
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('fake stripe failed to stop cleanly', { signal, err });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  logger.error('fake stripe failed to start', { err });
  process.exit(1);
});
