import { sql, type Kysely } from 'kysely';
import { isSqlite } from './dialect-types.js';

/**
 * Scale-out: the relay looks for pending rows not yet handed to Redis. With only the due index
 * (every pending row) each pass walked past all the rows already published and waiting for a
 * worker — a backlog of thousands under load — before reaching the new ones; this index holds the
 * unpublished rows alone. Postgres only: the embedded deployment has no relay (it never sets
 * `published_at`), and there the index would only be one more write per outbox row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) return;
  await db.schema
    .createIndex('outbox_unpublished_idx')
    .on('outbox')
    .columns(['available_at', 'id'])
    .where(sql.ref('status'), '=', 'pending')
    .where(sql.ref('published_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) return;
  await db.schema.dropIndex('outbox_unpublished_idx').execute();
}
