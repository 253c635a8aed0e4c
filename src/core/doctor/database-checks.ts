import { existsSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.js';
import { pendingMigrations } from '../db/migrate.js';
import { migrationProvider } from '../db/migrations/index.js';
import { openStorage, type Storage } from '../db/open-storage.js';
import type { Database } from '../db/schema.js';
import { sqliteFile } from '../db/sqlite/sqlite.js';
import { errorLine, redactUrl, withTimeout, type DoctorCheck } from './check.js';
import { POSTGRES_SSL_REQUEST, probeTcp, tcpAddress } from './tcp-probe.js';

/** The outcome of the `database` check; `storage` is open (the caller closes it) only when it passed. */
export interface OpenedDatabase {
  check: DoctorCheck;
  storage?: Storage;
  /** Why the checks that need the database cannot run, when it did not open. */
  skipReason?: string;
}

/**
 * Opens the deployment's database without migrating or creating it and runs one query, each step
 * bounded by `timeoutMs`. Never throws: a database that cannot be opened is a failed check.
 */
export async function openDatabase(config: Config, timeoutMs: number): Promise<OpenedDatabase> {
  return config.databaseUrl ? openPostgresDatabase(config, config.databaseUrl, timeoutMs) : openSqliteDatabase(config, timeoutMs);
}

async function openSqliteDatabase(config: Config, timeoutMs: number): Promise<OpenedDatabase> {
  const file = sqliteFile(config.dataDir);
  // Opening SQLite creates the file: look first, so doctor never leaves an empty database behind.
  if (!existsSync(file)) {
    return {
      check: { name: 'database', status: 'fail', detail: `no database at ${file} (run buildflow migrate or serve)`, data: { dialect: 'sqlite', file } },
      skipReason: 'there is no database',
    };
  }
  let storage: Storage | undefined;
  try {
    storage = openStorage(config);
    // Reads the schema, so a file that is not a SQLite database fails here rather than later.
    await withTimeout(sql`select count(*) as n from sqlite_master`.execute(storage.db), timeoutMs, `the database at ${file}`);
    return { check: { name: 'database', status: 'ok', detail: `SQLite at ${file}`, data: { dialect: 'sqlite', file } }, storage };
  } catch (err) {
    await closeStorage(storage, timeoutMs);
    return {
      check: { name: 'database', status: 'fail', detail: `cannot open the database at ${file}: ${errorLine(err)}`, data: { dialect: 'sqlite', file } },
      skipReason: 'the database cannot be opened',
    };
  }
}

async function openPostgresDatabase(config: Config, url: string, timeoutMs: number): Promise<OpenedDatabase> {
  const target = redactUrl(url);
  const data = { dialect: 'postgres', url: target };
  const unreachable = (err: unknown): OpenedDatabase => ({
    check: {
      name: 'database',
      status: 'fail',
      detail: `cannot connect to Postgres at ${target}: ${errorLine(err)} (check BUILDFLOW_DATABASE_URL and that the server is up)`,
      data,
    },
    skipReason: 'the database cannot be reached',
  });
  // pg has no connect timeout here: a host that drops packets, or a port that accepts and stays
  // silent, would hang the connect. Ask the server for one byte first.
  const address = tcpAddress(url, 5432);
  if (address) {
    try {
      await probeTcp(address.host, address.port, timeoutMs, POSTGRES_SSL_REQUEST);
    } catch (err) {
      return unreachable(err);
    }
  }
  let storage: Storage | undefined;
  const readSchema = async (serverBound: boolean) => {
    // Doctor runs its queries one at a time: two connections are plenty.
    storage = openStorage({ ...config, databaseUrl: boundedUrl(url, timeoutMs, serverBound), databasePoolMax: 2 });
    return withTimeout(sql<{ schema: string | null }>`select current_schema() as schema`.execute(storage.db), timeoutMs, `Postgres at ${target}`);
  };
  try {
    let result;
    try {
      result = await readSchema(true);
    } catch (err) {
      // A pooler (PgBouncer) refuses startup parameters it does not know, statement_timeout among
      // them: there doctor keeps only pg's own bound on each answer.
      if (!/unsupported startup parameter/.test(errorLine(err))) throw err;
      await closeStorage(storage, timeoutMs);
      result = await readSchema(false);
    }
    const { rows } = result;
    const schema = rows[0]?.schema ?? null;
    if (schema === null) {
      await closeStorage(storage, timeoutMs);
      return {
        check: {
          name: 'database',
          status: 'fail',
          detail: `Postgres at ${target}: no schema on the search_path exists (check the options in BUILDFLOW_DATABASE_URL)`,
          data: { ...data, schema },
        },
        skipReason: 'the database has no schema to work in',
      };
    }
    return { check: { name: 'database', status: 'ok', detail: `Postgres at ${target} (schema ${schema})`, data: { ...data, schema } }, storage };
  } catch (err) {
    await closeStorage(storage, timeoutMs);
    return unreachable(err);
  }
}

/**
 * The URL with doctor's bounds on each statement: the server cancels one that runs (or waits for a
 * lock) past `timeoutMs`, and pg gives up on an answer soon after, so closing the pool never waits
 * on a busy connection. Without `serverBound`, only pg's bound (no startup parameter for a pooler to refuse).
 */
function boundedUrl(url: string, timeoutMs: number, serverBound: boolean): string {
  try {
    const u = new URL(url);
    if (serverBound) u.searchParams.set('statement_timeout', String(timeoutMs));
    u.searchParams.set('query_timeout', String(timeoutMs + 500));
    return u.toString();
  } catch {
    return url;
  }
}

/** Closes what {@link openDatabase} opened, giving up (silently) after `timeoutMs`. */
export async function closeStorage(storage: Storage | undefined, timeoutMs: number): Promise<void> {
  if (!storage) return;
  await withTimeout(storage.close(), timeoutMs, 'closing the database').catch(() => {});
}

/**
 * `migrations`: ok when the database has applied every migration this version knows; fail when
 * any is missing (`data.applied` 0 means the database was never migrated).
 */
export async function checkMigrations(db: Kysely<Database>, timeoutMs: number): Promise<DoctorCheck> {
  const known = Object.keys(await migrationProvider.getMigrations()).sort();
  const pending = await withTimeout(pendingMigrations(db), timeoutMs, 'the migration table');
  const data = { known: known.length, applied: known.length - pending.length, pending };
  if (pending.length === 0) {
    return { name: 'migrations', status: 'ok', detail: `all ${known.length} migrations applied`, data };
  }
  if (pending.length === known.length) {
    return { name: 'migrations', status: 'fail', detail: `the database is not migrated (none of ${known.length} migrations applied): run buildflow migrate`, data };
  }
  return {
    name: 'migrations',
    status: 'fail',
    detail: `${pending.length} of ${known.length} migrations not applied (${pending.join(', ')}): run buildflow migrate`,
    data,
  };
}
