import type { Kysely } from 'kysely';

/**
 * Scale-out transport: when an outbox row was last handed to Redis. A relay publishes rows with
 * no `published_at` (or one older than the republish bound); a retry clears it again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('published_at', 'bigint').execute();
}
