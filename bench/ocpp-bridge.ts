// The OCPP bridge alone, in its own process so its memory can be measured: the billing handlers with the
// entitlement cache and the durable MeterValues inbox over PostgreSQL, no Temporal. Started by
// bench/ocpp.ts; answers 'rss' messages with its resident memory.
import type { Client } from '@temporalio/client';
import { logger } from '../config/logger';
import { createDb } from '../db/knex';
import { createAuthenticator } from '../ocpp/billing/authenticate';
import { createEntitlementCache } from '../ocpp/billing/entitlements';
import { createBillingHandlers } from '../ocpp/billing/handlers';
import { createMeterRelay } from '../ocpp/billing/meter-relay';
import { createSessionBridge } from '../ocpp/billing/session-bridge';
import { startOcppServer } from '../ocpp/server';

async function main(): Promise<void> {
  const db = createDb(process.argv[2], { min: 1, max: 10 });
  const log = logger.child({ component: 'ocpp' });
  const entitlements = createEntitlementCache(db, { log });
  await entitlements.start();
  // No Temporal: the Authorize path never reaches it, and MeterValues are measured up to their commit to
  // the inbox; the relay hands them to a stand-in that accepts every signal at once.
  const sessions = createSessionBridge({} as Client, 'bench');
  const meterRelay = createMeterRelay(db, { sendReadings: async () => true }, { log });
  meterRelay.start();
  const server = await startOcppServer({
    host: '127.0.0.1',
    port: 0,
    authenticate: createAuthenticator(db),
    handlers: createBillingHandlers({
      db,
      sessions,
      entitlements,
      meterRelay,
      heartbeatIntervalSeconds: 300,
    }),
    log,
    pingIntervalMs: 0,
  });
  process.on('message', (msg: string) => {
    if (msg === 'rss') process.send!({ rss: process.memoryUsage().rss, connections: server.connections() });
    if (msg === 'stop') {
      void server
        .close()
        .then(() => meterRelay.close())
        .then(() => entitlements.close())
        .then(() => db.destroy())
        .then(() => process.exit(0));
    }
  });
  process.send!({ url: server.url });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
