import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type LogConfig,
  type QueryResult,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import type { Database } from '../schema.js';
import type { ThreadWriteLock } from './thread-write-lock.js';
import { DEFAULTS } from '../../defaults.js';

/**
 * The connection as the cross-thread lock wraps it: a statement outside a transaction takes the
 * lock only if it writes. Reads need no lock: in WAL mode a reader never waits for the writer (it
 * reads the last committed snapshot), so SQLite's busy handler cannot put this thread to sleep on
 * one; measured in docs/architecture.md ("The cross-thread write lock").
 */
class WriteLockedConnection implements DatabaseConnection {
  inTransaction = false;

  constructor(
    private readonly inner: DatabaseConnection,
    private readonly lock: ThreadWriteLock,
    private readonly database: SqliteDatabase,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction || (this.database.prepare(query.sql) as SqliteStatement & { readonly: boolean }).readonly) return this.inner.executeQuery<R>(query);
    await this.lock.acquire();
    try {
      return await this.inner.executeQuery<R>(query);
    } finally {
      this.lock.release();
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * SQLite through better-sqlite3 with the settings DESIGN.md asks for: WAL, a busy timeout, and
 * every write transaction started with BEGIN IMMEDIATE so two processes on one file queue for the
 * write lock instead of failing on a lock upgrade.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  constructor(
    private readonly database: SqliteDatabase,
    private readonly lock: ThreadWriteLock | undefined,
  ) {
    super({ database });
  }

  // kysely hands its one connection to one caller at a time; a writer then also takes the lock
  // shared with this process's other threads, so SQLite never makes this thread sleep.
  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    return this.lock ? new WriteLockedConnection(connection, this.lock, this.database) : connection;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof WriteLockedConnection) {
      await this.lock!.acquire();
      connection.inTransaction = true;
    }
    try {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    } catch (err) {
      this.endTransaction(connection);
      throw err;
    }
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.commitTransaction(connection);
    } finally {
      this.endTransaction(connection);
    }
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.rollbackTransaction(connection);
    } finally {
      this.endTransaction(connection);
    }
  }

  private endTransaction(connection: DatabaseConnection): void {
    if (!(connection instanceof WriteLockedConnection) || !connection.inTransaction) return;
    connection.inTransaction = false;
    this.lock!.release();
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly database: SqliteDatabase,
    private readonly lock: ThreadWriteLock | undefined,
  ) {
    super({ database });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.database, this.lock);
  }
}

/**
 * kysely prepares every query anew; preparing costs more than running our small statements, so
 * keep prepared statements by SQL text. The set of distinct statements is small and fixed by code,
 * but bound it anyway in case a caller builds SQL with varying shapes (IN lists).
 */
function withStatementCache(raw: BetterSqlite3.Database, limit = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => raw.close(),
    prepare(sqlText: string): SqliteStatement {
      let stmt = cache.get(sqlText);
      if (!stmt) {
        stmt = raw.prepare(sqlText) as unknown as SqliteStatement;
        if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
        cache.set(sqlText, stmt);
      }
      return stmt;
    },
  };
}

export interface SqliteOptions {
  /** Directory holding `buildflow.db`; created if missing. */
  dataDir: string;
  /** File name inside `dataDir`; default `buildflow.db`. */
  fileName?: string;
  /**
   * `normal` (the default) commits without fsync, durable across process crashes; pair it with
   * {@link WalSync} before acknowledging a write. `full` fsyncs on every commit, on the calling thread.
   */
  synchronous?: 'full' | 'normal';
  /** Shared with the other threads of this process that write the same file (see ThreadWriteLock). */
  writeLock?: ThreadWriteLock;
  /** kysely's query log (tests count statements with it). */
  log?: LogConfig;
}

/** Path of the database file inside a data directory. */
export function sqliteFile(dataDir: string, fileName = 'buildflow.db'): string {
  return join(dataDir, fileName);
}

/** Opens (creating if needed) the embedded database. */
export function openSqlite<DB = Database>(options: SqliteOptions): Kysely<DB> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const raw = new BetterSqlite3(sqliteFile(options.dataDir, options.fileName));
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${options.synchronous ?? 'normal'}`);
  raw.pragma(`busy_timeout = ${DEFAULTS.database.sqliteBusyTimeoutMs}`);
  raw.pragma('foreign_keys = ON');
  return new Kysely<DB>({ dialect: new ImmediateSqliteDialect(withStatementCache(raw), options.writeLock), ...(options.log ? { log: options.log } : {}) });
}
