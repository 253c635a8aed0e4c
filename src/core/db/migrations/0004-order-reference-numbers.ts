import { sql, type Kysely } from 'kysely';
import { isSqlite } from './dialect-types.js';

/**
 * Order references become numbers drawn in order instead of random codes: unique by construction
 * (40 random bits collide somewhere past a million orders, failing that order), and new references
 * sort together, so the unique index on `orders.reference` grows at its end. Postgres draws them
 * from a sequence, which concurrent servers share without waiting on each other; SQLite, where
 * writers take turns anyway, from a counter row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) {
    await db.schema
      .createTable('counters')
      .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull().check(sql`value >= 0`))
      .execute();
    await db.insertInto('counters').values({ name: 'order_reference', value: 0 }).execute();
  } else {
    await sql`create sequence order_reference_seq minvalue 1`.execute(db);
  }
}
