import type { Kysely } from 'kysely';
import { loadConfig } from '../core/config.js';
import { migrateToLatest } from '../core/db/migrate.js';
import type { Database } from '../core/db/schema.js';
import { openSqlite } from '../core/db/sqlite.js';

/**
 * Runs `work` on the migrated database of `--data-dir` (else BUILDFLOW_DATA_DIR, else .buildflow)
 * and closes it. The ops commands (migrate, seed, dead-letters) work on the file directly, so they
 * run with the API down; they migrate first, as serve and worker do.
 */
export async function withDatabase<T>(dataDir: string | undefined, work: (db: Kysely<Database>, applied: string[]) => Promise<T>): Promise<T> {
  const config = loadConfig({ BUILDFLOW_DATA_DIR: dataDir });
  const db = openSqlite<Database>({ dataDir: config.dataDir });
  try {
    const applied = await migrateToLatest(db);
    return await work(db, applied);
  } finally {
    await db.destroy();
  }
}
