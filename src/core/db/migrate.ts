import { Migrator, sql, type Kysely } from 'kysely';
import { BuildflowError } from '../errors.js';
import { migrationProvider } from './migrations/index.js';
import { isPostgres } from './postgres.js';

async function migrator(db: Kysely<any>): Promise<Migrator> {
  // kysely looks for its bookkeeping tables in every schema; on Postgres pin them to the schema
  // this connection works in, so deployments sharing a database in different schemas stay apart.
  if (isPostgres(db)) {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    return new Migrator({ db, provider: migrationProvider, migrationTableSchema: rows[0]!.schema });
  }
  return new Migrator({ db, provider: migrationProvider });
}

/** Applies every pending migration; returns the names applied now. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // Nothing pending (every start after the first): no transaction and no lock, so many processes
  // starting at once do not queue behind each other.
  const m = await migrator(db);
  if ((await pendingOf(m)).length === 0) return [];
  const { error, results } = await m.migrateToLatest();
  if (error) {
    throw new BuildflowError('UNAVAILABLE', `migration failed: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations the code knows but the database has not applied. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  return pendingOf(await migrator(db));
}

async function pendingOf(m: Migrator): Promise<string[]> {
  return (await m.getMigrations()).filter((x) => x.executedAt === undefined).map((x) => x.name);
}
