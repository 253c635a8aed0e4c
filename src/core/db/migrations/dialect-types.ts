import { SqliteAdapter, type CreateTableBuilder, type Kysely } from 'kysely';

/** True when `db` talks to SQLite; migrations are the one place besides the factory that may ask. */
export function isSqlite(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/** Adds an `id` column that the database numbers itself, spelled the way each dialect wants. */
export function autoIdColumn<T extends string>(db: Kysely<any>, table: CreateTableBuilder<T, never>) {
  return isSqlite(db)
    ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : table.addColumn('id', 'bigserial', (c) => c.primaryKey());
}
