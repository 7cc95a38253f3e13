import type { Knex } from 'knex';
import { createDb, dropDatabase, ensureDatabase, migrateLatest } from '../../db/knex';

const SERVER = process.env.TEST_DATABASE_SERVER || 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  db: Knex;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database per test file, on the real PostgreSQL server. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const url = `${SERVER}/ev_billing_test_${label}_${process.pid}`;
  await dropDatabase(url);
  await ensureDatabase(url);
  const db = createDb(url);
  await migrateLatest(db);
  return {
    db,
    url,
    async drop() {
      await db.destroy();
      await dropDatabase(url);
    },
  };
}
