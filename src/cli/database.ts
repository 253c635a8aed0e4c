import type { Kysely } from 'kysely';
import { loadConfig } from '../core/config.js';
import { migrateToLatest } from '../core/db/migrate.js';
import type { Database } from '../core/db/schema.js';
import { openStorage } from '../core/db/open-storage.js';
import { openProductCache, type ProductCache } from '../core/catalog/product-cache.js';
import type { UnitRunner } from '../core/db/unit-of-work.js';
import { deploymentUnits } from '../core/deployment-units.js';

/**
 * Runs `work` on the migrated database (BUILDFLOW_DATABASE_URL, else the SQLite file of
 * `--data-dir` / BUILDFLOW_DATA_DIR / .buildflow) and closes it. The ops commands (migrate, seed,
 * dead-letters) work on the database directly, so they run with the API down; they migrate first,
 * as serve and worker do.
 */
export async function withDatabase<T>(
  dataDir: string | undefined,
  work: (db: Kysely<Database>, applied: string[], units: UnitRunner) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ BUILDFLOW_DATA_DIR: dataDir });
  const storage = openStorage(config);
  // Catalog writes from here (seed) drop the API's cached reads through the units' hooks, as the
  // API's own writes do; opened on first use, so commands that write no catalog never connect to Redis.
  let cache: ProductCache | undefined;
  const units = deploymentUnits(storage.db, { sync: storage.sync, cache: () => (cache ??= openProductCache(config)), sendsEmail: config.mail !== undefined });
  try {
    const applied = await migrateToLatest(storage.db);
    // Ops writes are acknowledged like API writes: their units ask for durability.
    return await work(storage.db, applied, units);
  } finally {
    await cache?.close();
    await storage.close();
  }
}
