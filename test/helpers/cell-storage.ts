import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { tempDir, type RunningProcess } from '../cli/harness.js';
import { TEST_REDIS_URL, freshPostgresDatabase, freshRedisPrefix, usesPostgres, usesRedis, type Backend } from './backends.js';
import { loadConfig } from '../../src/core/config.js';
import { openBuildflow, type Buildflow } from '../../src/core/buildflow.js';
import { openPostgres } from '../../src/core/db/postgres.js';
import { sqliteFile } from '../../src/core/db/sqlite/sqlite.js';
import type { Database } from '../../src/core/db/schema.js';

/**
 * Where one backend cell's deployment of real processes keeps its data: a temp data directory,
 * on Postgres a fresh database, with Redis a fresh key prefix. `env` points spawned processes at
 * them; `db` reads what they wrote; `remove` deletes all of it.
 */
export interface CellStorage {
  dir: string;
  /** BUILDFLOW_DATABASE_URL and BUILDFLOW_REDIS_* for the cell (empty on SQLite). */
  env: Record<string, string>;
  /** The Redis key prefix, on a `+redis` cell. */
  prefix?: string;
  db: Kysely<Database>;
  /** Closes `db`, drops the database and the keys, removes the directory; safe to call twice. */
  remove(): Promise<void>;
}

export interface CellStorageOptions {
  /** Name prefix of the temp directory. */
  tmpPrefix: string;
  /** More env for the migrating, seeding app (the spawned processes get the caller's own). */
  env?: Record<string, string>;
  /** Writes what the test starts from, through core, before any process runs. */
  seed?: (app: Buildflow) => Promise<void>;
}

/** Makes, migrates and seeds one cell's storage; on failure removes what it made and rethrows. */
export async function openCellStorage(backend: Backend, options: CellStorageOptions): Promise<CellStorage> {
  const tmp = tempDir(options.tmpPrefix);
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>> | undefined;
  let redis: ReturnType<typeof freshRedisPrefix> | undefined;
  let db: Kysely<Database> | undefined;
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    try {
      await db?.destroy();
      await database?.drop();
      await redis?.drop();
    } finally {
      tmp.remove();
    }
  };
  try {
    if (usesPostgres(backend)) database = await freshPostgresDatabase();
    if (usesRedis(backend)) redis = freshRedisPrefix();
    const env: Record<string, string> = {
      ...(database ? { BUILDFLOW_DATABASE_URL: database.url } : {}),
      ...(redis ? { BUILDFLOW_REDIS_URL: TEST_REDIS_URL, BUILDFLOW_REDIS_PREFIX: redis.prefix } : {}),
    };
    const app = await openBuildflow(loadConfig({ ...options.env, ...env, BUILDFLOW_DATA_DIR: tmp.dir }, {}), { migrate: true });
    try {
      await options.seed?.(app);
    } finally {
      await app.close();
    }
    db = database ? openPostgres<Database>(database.url, { max: 2 }) : readSqlite(tmp.dir);
    return { dir: tmp.dir, env, ...(redis ? { prefix: redis.prefix } : {}), db, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

// Read-only, so the test never takes the write lock the processes under test compete for.
function readSqlite(dataDir: string): Kysely<Database> {
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(sqliteFile(dataDir), { readonly: true, fileMustExist: true }) }) });
}

/** Stops a process with SIGTERM, and SIGKILL after `ms` if it has not ended by then. */
export async function stopWithin(p: RunningProcess, ms: number): Promise<void> {
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  try {
    await p.stop();
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every process (SIGKILL after 15 s), then removes the cell's storage and anything else given, whatever failed. */
export async function tearDownCell(processes: readonly (RunningProcess | undefined)[], storage: CellStorage | undefined, ...more: (() => Promise<unknown>)[]): Promise<void> {
  try {
    await Promise.all(processes.filter((p): p is RunningProcess => p !== undefined).map((p) => stopWithin(p, 15_000)));
  } finally {
    await Promise.allSettled([storage?.remove(), ...more.map((f) => f())]);
  }
}
