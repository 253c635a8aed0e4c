import type { Insertable } from 'kysely';
import type { Database } from './schema.js';
import { insertChunked } from './insert-chunked.js';
import type { Db } from '../outbox/outbox.js';

type DeferrableTable = 'outbox' | 'order_history' | 'stock_movements';
type Buffers = { [T in DeferrableTable]: Insertable<Database[T]>[] };

const buffers = new WeakMap<object, Buffers>();

/**
 * Makes append-only inserts (outbox, history, ledger) made through {@link insertOrDefer} on this
 * transaction wait until {@link flushDeferred}, which writes each table's rows in a few multi-row
 * statements. A worker batch of a hundred steps then costs a handful of inserts instead of
 * hundreds. Only rows nobody reads back within the same transaction may be deferred.
 */
export function deferInserts(trx: Db): void {
  buffers.set(trx, { outbox: [], order_history: [], stock_movements: [] });
}

/** Writes the rows deferred on this transaction; call before it commits. */
export async function flushDeferred(trx: Db): Promise<void> {
  const b = buffers.get(trx);
  if (!b) return;
  buffers.delete(trx);
  await insertChunked(trx, 'order_history', b.order_history);
  await insertChunked(trx, 'stock_movements', b.stock_movements);
  await insertChunked(trx, 'outbox', b.outbox);
}

/** Inserts now, or at flush time when the transaction defers inserts. */
export async function insertOrDefer<T extends DeferrableTable>(trx: Db, table: T, rows: readonly Insertable<Database[T]>[]): Promise<void> {
  if (rows.length === 0) return;
  const b = buffers.get(trx);
  if (b) (b[table] as Insertable<Database[T]>[]).push(...rows);
  else await insertChunked(trx, table, rows);
}
