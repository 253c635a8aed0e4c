import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database } from './schema.js';
import type { SimulatedGatewayDatabase } from './simulated-gateway-schema.js';
import { openPostgres } from './postgres.js';
import { openSqlite, sqliteFile } from './sqlite.js';
import { ThreadWriteLock } from './thread-write-lock.js';
import { WalSync } from './wal-sync.js';
import { IntakeWriter } from '../orders/intake-writer.js';

/** The databases of one deployment, and how to make its commits durable. */
export interface Storage {
  dialect: 'sqlite' | 'postgres';
  db: Kysely<Database>;
  /** Where the simulated payment provider keeps its books. */
  gatewayDb: Kysely<SimulatedGatewayDatabase>;
  /** Resolves once every transaction committed so far survives power loss. */
  sync(): Promise<void>;
  /** Embedded only: commits order batches from a thread of its own. */
  orderWriter?: IntakeWriter;
  close(): Promise<void>;
}

/**
 * Opens Postgres when `BUILDFLOW_DATABASE_URL` is set, else the embedded SQLite file in the data
 * directory. The one place besides the migrations that knows which dialect is in use.
 */
export function openStorage(config: Config): Storage {
  if (config.databaseUrl) {
    const db = openPostgres<Database>(config.databaseUrl, { max: config.databasePoolMax, preparedStatements: config.databasePreparedStatements !== 'off' });
    return {
      dialect: 'postgres',
      db,
      gatewayDb: db as unknown as Kysely<SimulatedGatewayDatabase>,
      // With synchronous_commit on (the default), a Postgres commit is durable when it returns.
      sync: async () => {},
      close: () => db.destroy(),
    };
  }
  const writeLock = new ThreadWriteLock();
  const db = openSqlite<Database>({ dataDir: config.dataDir, writeLock });
  const orderWriter = new IntakeWriter(sqliteFile(config.dataDir), writeLock);
  const walSync = new WalSync(`${sqliteFile(config.dataDir)}-wal`);
  // The simulated provider's books live in their own file, as a real provider's live elsewhere;
  // losing a commit there on power loss is harmless because charges are idempotent by key.
  const gatewayDb = openSqlite<SimulatedGatewayDatabase>({ dataDir: config.dataDir, fileName: 'simulated-payments.db' });
  return {
    dialect: 'sqlite',
    db,
    gatewayDb,
    sync: () => walSync.sync(),
    orderWriter,
    async close() {
      await orderWriter.close();
      await walSync.close();
      await db.destroy();
      await gatewayDb.destroy();
    },
  };
}
