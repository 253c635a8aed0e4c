import { Kysely, PostgresAdapter, PostgresDialect, type LogConfig } from 'kysely';
import pg from 'pg';
import { DEFAULTS } from '../defaults.js';
import { SETTINGS } from '../settings.js';

// int8 (count(*), bigint columns) and numeric (sum of bigints) arrive as strings by default;
// every such value here (cents, stock, ms timestamps) is far below 2^53, so numbers are exact.
const INT8 = 20;
const NUMERIC = 1700;

/**
 * Opens Postgres through a pg pool. A schema other than `public` is chosen in the URL, e.g.
 * `postgres://host/db?options=-c%20search_path%3Dshop`.
 */
export function openPostgres<DB>(url: string, options: { max?: number; log?: LogConfig } = {}): Kysely<DB> {
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
    prepareHotStatements(client);
  });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }), ...(options.log ? { log: options.log } : {}) });
}

// Statement texts that repeat get a name, so each connection parses and plans them once and then
// only binds and executes (Postgres switches a named statement to a cached generic plan when that
// costs no more). Texts are constant per query shape — value lists travel as array parameters, see
// db/sets.ts — so the set is small; the bound keeps a caller that builds texts from data from
// filling every connection with statements.
const MAX_NAMED_STATEMENTS = 256;
const seen = new Map<string, number>();
const names = new Map<string, string>();
let statements = 0;

function nameFor(text: string): string | undefined {
  const name = names.get(text);
  if (name) return name;
  if (names.size >= MAX_NAMED_STATEMENTS || text.length > 10_000) return undefined;
  const n = (seen.get(text) ?? 0) + 1;
  if (n < 2) {
    if (seen.size < 4 * MAX_NAMED_STATEMENTS) seen.set(text, n);
    return undefined;
  }
  seen.delete(text);
  const fresh = `bf_${names.size + 1}`;
  names.set(text, fresh);
  return fresh;
}

function prepareHotStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    statements++;
    const [text, values] = args;
    if (typeof text === 'string' && Array.isArray(values) && args.length === 2) {
      const name = nameFor(text);
      if (name) return query({ name, text, values });
    }
    return query(...args);
  };
}

/** Statements this process has sent to Postgres so far (for benchmarks and diagnostics). */
export function postgresStatementCount(): number {
  return statements;
}

/** True when `db` talks to Postgres (row locks with SKIP LOCKED are available). */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
