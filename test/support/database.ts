import type { Knex } from 'knex';
import { createDb, dropDatabase, ensureDatabase, migrateLatest, migrateUpTo } from '../../db/knex';

const SERVER = process.env.TEST_DATABASE_SERVER || 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  db: Knex;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database per test file, on the real PostgreSQL server; `upTo` stops at that migration. */
export async function createTestDatabase(label: string, opts: { upTo?: string } = {}): Promise<TestDatabase> {
  const url = `${SERVER}/ev_billing_test_${label}_${process.pid}`;
  await dropDatabase(url);
  await ensureDatabase(url);
  const db = createDb(url);
  if (opts.upTo) await migrateUpTo(db, opts.upTo);
  else await migrateLatest(db);
  return {
    db,
    url,
    async drop() {
      await db.destroy();
      await dropDatabase(url);
    },
  };
}
