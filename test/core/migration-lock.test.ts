import { afterEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { BACKENDS, freshPostgresDatabase, usesPostgres } from '../helpers/backends.js';
import { openPostgres } from '../../src/core/db/postgres.js';
import { migrateToLatest, pendingMigrations } from '../../src/core/db/migrate.js';

const runs = BACKENDS.some(usesPostgres);

type Owned = { databases: Awaited<ReturnType<typeof freshPostgresDatabase>>[]; pools: Kysely<any>[] };
const owned: Owned = { databases: [], pools: [] };
afterEach(async () => {
  await Promise.all(owned.pools.splice(0).map((p) => p.destroy()));
  await Promise.all(owned.databases.splice(0).map((d) => d.drop()));
});

async function freshPool(): Promise<Kysely<any>> {
  const database = await freshPostgresDatabase();
  owned.databases.push(database);
  const db = openPostgres<any>(database.url, { max: 4 });
  owned.pools.push(db);
  return db;
}

const advisoryLocksHeld = async (db: Kysely<any>) =>
  Number(
    (await sql<{ n: number }>`select count(*) as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`.execute(db))
      .rows[0]!.n,
  );

describe.skipIf(!runs)('the migration lock on Postgres', () => {
  it('when the migration transaction ends without the lock being released (a migration failing, a connection cut off), then no lock outlives it', async () => {
    const db = await freshPool();
    const lockOptions = { lockTable: 'kysely_migration_lock', lockRowId: 'migration_lock', lockTableSchema: 'public' };
    await db.connection().execute(async (c) => {
      await c.getExecutor().adapter.acquireMigrationLock(c, lockOptions);
      expect(await advisoryLocksHeld(c)).toBe(1);
      await sql`rollback`.execute(c);
    });
    // Every pooled connection, including the one that held it: a transaction pooler would hand that one on.
    const connections = await Promise.all(Array.from({ length: 4 }, () => db.connection().execute(async (c) => advisoryLocksHeld(c))));
    expect(connections).toEqual([0, 0, 0, 0]);
  });

  it('when two processes migrate one database at once, then each migration is applied once and both end up current', async () => {
    const first = await freshPool();
    const second = openPostgres<any>(owned.databases[0]!.url, { max: 2 });
    owned.pools.push(second);
    const all = await pendingMigrations(first);
    const [a, b] = await Promise.all([migrateToLatest(first), migrateToLatest(second)]);
    expect([...a, ...b].sort()).toEqual([...all].sort());
    expect(await pendingMigrations(second)).toEqual([]);
    expect(await advisoryLocksHeld(first)).toBe(0);
  });
});
