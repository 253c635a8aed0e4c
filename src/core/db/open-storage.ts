import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import { InProcessCommits, type CommitEngine } from './commit-engine.js';
import type { Database } from './schema.js';
import type { SimulatedGatewayDatabase } from './simulated-gateway-schema.js';
import { openPostgres } from './postgres.js';
import { SqliteGroupCommit } from './sqlite/group-commit.js';
import { openSqlite, sqliteFile } from './sqlite/sqlite.js';
import { ThreadWriteLock } from './sqlite/thread-write-lock.js';
import { WalSync } from './sqlite/wal-sync.js';
import type { UnitRunner } from './unit-of-work.js';

/** The databases of one deployment, and how to make its commits durable. */
export interface Storage {
  dialect: 'sqlite' | 'postgres';
  db: Kysely<Database>;
  /** Where the simulated payment provider keeps its books. */
  gatewayDb: Kysely<SimulatedGatewayDatabase>;
  /** Resolves once every transaction committed so far survives power loss. */
  sync(): Promise<void>;
  /**
   * The engine batched writes (order intake) commit through, announcing what committed to `units`'
   * after-commit hooks: the SQLite commit thread when openStorage was given its entry, else
   * `units` itself on this thread. Closed with the storage.
   */
  commits(units: UnitRunner): CommitEngine;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** Entry module of the SQLite commit thread (core/commit-thread.ts); without it SQLite commits batches on this thread. */
  commitThread?: URL;
}

/**
 * Opens Postgres when `BUILDFLOW_DATABASE_URL` is set, else the embedded SQLite file in the data
 * directory. The one place besides the migrations that knows which dialect is in use.
 */
export function openStorage(config: Config, options: StorageOptions = {}): Storage {
  let engine: CommitEngine | undefined;
  const closeEngine = async () => {
    await engine?.close();
    engine = undefined;
  };
  if (config.databaseUrl) {
    const db = openPostgres<Database>(config.databaseUrl, { max: config.databasePoolMax, preparedStatements: config.databasePreparedStatements !== 'off' });
    return {
      dialect: 'postgres',
      db,
      gatewayDb: db as unknown as Kysely<SimulatedGatewayDatabase>,
      // With synchronous_commit on (the default), a Postgres commit is durable when it returns.
      sync: async () => {},
      commits: (units) => (engine = new InProcessCommits(units)),
      async close() {
        await closeEngine();
        await db.destroy();
      },
    };
  }
  const file = sqliteFile(config.dataDir);
  const writeLock = new ThreadWriteLock();
  const db = openSqlite<Database>({ dataDir: config.dataDir, writeLock });
  const walSync = new WalSync(`${file}-wal`);
  // The simulated provider's books live in their own file, as a real provider's live elsewhere;
  // losing a commit there on power loss is harmless because charges are idempotent by key.
  const gatewayDb = openSqlite<SimulatedGatewayDatabase>({ dataDir: config.dataDir, fileName: 'simulated-payments.db' });
  const entry = options.commitThread;
  return {
    dialect: 'sqlite',
    db,
    gatewayDb,
    sync: () => walSync.sync(),
    commits: (units) =>
      (engine = entry ? new SqliteGroupCommit({ file, lock: writeLock, entry, announce: (work) => units.announce(work) }) : new InProcessCommits(units)),
    async close() {
      await closeEngine();
      await walSync.close();
      await db.destroy();
      await gatewayDb.destroy();
    },
  };
}
