import { Kysely, PostgresAdapter, PostgresDialect, sql, type LogConfig } from 'kysely';
import pg from 'pg';
import { StatementNames, instrumentClient } from './named-statements.js';
import { DEFAULTS } from '../defaults.js';
import { SETTINGS } from '../settings.js';

// int8 (count(*), bigint columns) and numeric (sum of bigints) arrive as strings by default;
// every such value here (cents, stock, ms timestamps) is far below 2^53, so numbers are exact.
const INT8 = 20;
const NUMERIC = 1700;

/**
 * Opens Postgres through a pg pool. A schema other than `public` is chosen in the URL, e.g.
 * `postgres://host/db?options=-c%20search_path%3Dshop` (PgBouncer 1.18 refuses that startup
 * parameter: there, give the role or the database a default search_path instead).
 *
 * `preparedStatements` (default true) names repeated statements, which live in the server session.
 * Off, nothing outlives a transaction: the pool may sit behind a transaction-pooling proxy.
 */
export function openPostgres<DB>(url: string, options: { max?: number; log?: LogConfig; preparedStatements?: boolean } = {}): Kysely<DB> {
  const names = options.preparedStatements === false ? undefined : new StatementNames();
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? SETTINGS.databasePoolMax.default,
    connectionTimeoutMillis: DEFAULTS.database.postgresConnectTimeoutMs,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor may a checked-out one: when its connection ends (pg_terminate_backend, a dropped socket)
  // pg rejects the query in flight and then emits 'error' on the client, which nobody listens to
  // while kysely holds it. The query's rejection is the failure callers see; on release the pool
  // drops the client, as it is no longer queryable.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    instrumentClient(client, names, countStatement);
  });
  return new Kysely<DB>({ dialect: new TransactionLockDialect({ pool }), ...(options.log ? { log: options.log } : {}) });
}

// kysely's own key, so a process of an earlier release migrating at the same time still excludes this one.
const MIGRATION_LOCK_ID = '3853314791062309107';

/**
 * kysely takes its Postgres migration lock as a session advisory lock in a statement of its own,
 * then runs the migrations in a transaction on the same client. Through a transaction-pooling
 * proxy those are separate server sessions: the lock stays held on one the proxy hands to others,
 * and every later migrate waits for it. Here the lock opens the transaction and is a transaction
 * lock: kysely's own `begin` that follows is a no-op (Postgres warns and goes on), and its commit
 * or rollback ends the migrations and the lock together, as does a connection cut off midway.
 */
class TransactionLockAdapter extends PostgresAdapter {
  override async acquireMigrationLock(db: Kysely<any>): Promise<void> {
    await sql`begin`.execute(db);
    try {
      await sql`with t as (select set_config('lock_timeout', '60s', true)) select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_ID)}) from t`.execute(db);
    } catch (err) {
      await sql`rollback`.execute(db).catch(() => {});
      throw err;
    }
  }

  override async releaseMigrationLock(): Promise<void> {}
}

class TransactionLockDialect extends PostgresDialect {
  override createAdapter(): PostgresAdapter {
    return new TransactionLockAdapter();
  }
}

let statements = 0;
const countStatement = () => {
  statements++;
};

/** Statements this process has sent to Postgres so far (for benchmarks and diagnostics). */
export function postgresStatementCount(): number {
  return statements;
}

/** True when `db` talks to Postgres (row locks with SKIP LOCKED are available). */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
