import type { Kysely } from 'kysely';
import { loadConfig, type Config } from '../core/config.js';
import { migrateToLatest } from '../core/db/migrate.js';
import type { Database } from '../core/db/schema.js';
import { openStorage } from '../core/db/open-storage.js';
import { openProductCache, type ProductCache } from '../core/catalog/product-cache.js';
import type { UnitRunner } from '../core/db/unit-of-work.js';
import { deploymentUnits } from '../core/deployment-units.js';
import { DEFAULT_DOCTOR_TIMEOUT_MS } from '../core/doctor/run-doctor.js';
import { checkMigrations, closeStorage, openDatabase } from '../core/doctor/database-checks.js';
import { preflight } from '../core/preflight.js';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

type Work<T> = (db: Kysely<Database>, applied: string[], units: UnitRunner) => Promise<T>;

/**
 * Runs `work` on the migrated database (BUILDFLOW_DATABASE_URL, else the SQLite file of
 * `--data-dir` / BUILDFLOW_DATA_DIR / .buildflow) and closes it, creating and migrating it when
 * needed: for the commands that set a deployment up (migrate, seed). They work on the database
 * directly, so they run with the API down. A Postgres that cannot be reached is one line, exit 5.
 */
export async function withDatabase<T>(dataDir: string | undefined, work: Work<T>): Promise<T> {
  const config = loadConfig({ BUILDFLOW_DATA_DIR: dataDir });
  await preflight(config, { database: true });
  return run(config, work);
}

/**
 * Runs `work` on an existing deployment's database, for the commands that read or repair one
 * (dead-letters): they never create one. No database there (a typo in --data-dir, the wrong
 * directory), or one never migrated, is refused with doctor's words and its exit code (9); one
 * that cannot be reached with doctor's words and exit 5. A database some migrations behind is
 * brought up to date, as serve and worker would.
 */
export async function withDeployment<T>(dataDir: string | undefined, work: Work<T>): Promise<T> {
  const config = loadConfig({ BUILDFLOW_DATA_DIR: dataDir });
  const timeoutMs = DEFAULT_DOCTOR_TIMEOUT_MS;
  const opened = await openDatabase(config, timeoutMs);
  try {
    if (!opened.storage) {
      const missing = opened.skipReason === 'there is no database';
      throw new CliError(missing ? 'UNHEALTHY' : 'UNAVAILABLE', opened.check.detail, { exitCode: missing ? ExitCode.UNHEALTHY : ExitCode.UNAVAILABLE });
    }
    const migrations = await checkMigrations(opened.storage.db, timeoutMs);
    if (migrations.data?.applied === 0) throw new CliError('UNHEALTHY', migrations.detail, { exitCode: ExitCode.UNHEALTHY });
  } finally {
    await closeStorage(opened.storage, timeoutMs);
  }
  return run(config, work);
}

async function run<T>(config: Config, work: Work<T>): Promise<T> {
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
