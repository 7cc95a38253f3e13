import { loadConfig, loadDotEnv } from '../config/env';
import { logger } from '../config/logger';
import { createDb, ensureDatabase, migrateLatest } from '../db/knex';

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  try {
    await migrateLatest(db);
    logger.info('database migrated');
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  logger.error('migration failed', { err });
  process.exit(1);
});
