import type { Insertable } from 'kysely';
import type { Database } from './schema.js';
import type { Db } from '../outbox/outbox.js';

// Bound on rows per INSERT: keeps parameters far below SQLite's 32766 and Postgres' 65535.
const ROWS_PER_INSERT = 500;

/** Inserts many rows with as few statements as the parameter limits allow. */
export async function insertChunked<T extends keyof Database & string>(
  trx: Db,
  table: T,
  rows: readonly Insertable<Database[T]>[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await trx
      .insertInto(table)
      .values(rows.slice(i, i + ROWS_PER_INSERT) as any)
      .execute();
  }
}
