import type { Kysely } from 'kysely';

/**
 * Orders are listed newest first by id: ids are UUID v7, whose leading bits are the creation time
 * in ms (the same instant as `created_at`), so the primary key already holds that order and the
 * `(created_at, id)` index was a second copy every intake insert paid for.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('orders_created_idx').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('orders_created_idx').on('orders').columns(['created_at', 'id']).execute();
}
