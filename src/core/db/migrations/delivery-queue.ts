import { sql, type CreateTableBuilder, type Kysely } from 'kysely';

// Used by migrations that have shipped: what these add must never change (a change would give
// databases migrated before it another schema than new ones).

/**
 * The columns of a delivery queue (webhook deliveries, emails), in this order: the row's state,
 * its attempts and when the next one is due, the lease of the worker sending it, the last error
 * and when the row was written.
 */
export function deliveryQueueColumns<T extends string, C extends string>(table: CreateTableBuilder<T, C>, statuses: readonly string[]) {
  return table
    .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql.raw(`status in (${statuses.map((s) => `'${s}'`).join(', ')})`)))
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('locked_by', 'varchar(64)')
    .addColumn('last_error', 'varchar(1000)')
    .addColumn('created_at', 'bigint', (c) => c.notNull());
}

/** The index delivery workers claim from: the pending rows of a delivery queue, in due order. */
export async function createDueIndex(db: Kysely<any>, name: string, table: string): Promise<void> {
  await db.schema.createIndex(name).on(table).columns(['next_attempt_at', 'id']).where(sql.ref('status'), '=', 'pending').execute();
}
