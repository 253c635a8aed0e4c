import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { CellStorage } from './cell-storage.js';

/**
 * Rows of the simulated provider's own books, read as a test's `select` gives them: on SQLite its
 * second file beside the data (opened read-only for each read, so a running worker keeps writing
 * it), on Postgres its tables in the cell's database.
 */
export async function providerRows<T>(storage: CellStorage, backend: string, query: string): Promise<T[]> {
  if (backend === 'sqlite') {
    const file = new BetterSqlite3(join(storage.dir, 'simulated-payments.db'), { readonly: true, fileMustExist: true });
    try {
      return file.prepare(query).all() as T[];
    } finally {
      file.close();
    }
  }
  return (await sql.raw<T>(query).execute(storage.db)).rows;
}
