import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { dueMessageIds, type Topic } from './outbox.js';

/** An outbox row a relay is to hand to the queue of its topic. */
export interface Publication {
  id: number;
  topic: Topic;
  orderId: string;
}

export interface PublishClaimOptions {
  limit: number;
  now: number;
  /** A row published this long ago and still pending is published again: Redis may have lost it. */
  republishAfterMs: number;
  /**
   * Claim those stale rows instead of never-published ones. Kept apart because the new rows have an
   * index of their own (the hot path), while the stale ones are the rare case a relay checks now
   * and then.
   */
  stale?: boolean;
}

/**
 * Marks up to `limit` due, unleased, unpublished rows as published and returns them, in one
 * statement. On Postgres concurrent relays skip each other's rows (SKIP LOCKED), so they never
 * publish one row twice at once; a relay that dies before publishing leaves rows marked that the
 * republish bound brings back. A duplicate publish is harmless: bee-queue refuses a job id it
 * holds, and steps are idempotent.
 */
export async function claimForPublishing(db: Kysely<Database>, o: PublishClaimOptions): Promise<Publication[]> {
  const rows = await db
    .updateTable('outbox')
    .set({ published_at: o.now })
    .where('id', 'in', dueMessageIds(db, o.now, o.limit).where(o.stale ? (w) => w('published_at', '<', o.now - o.republishAfterMs) : (w) => w('published_at', 'is', null)))
    .returning(['id', 'topic', 'order_id'])
    .execute();
  return rows.map((r) => ({ id: r.id, topic: r.topic as Topic, orderId: r.order_id })).sort((a, b) => a.id - b.id);
}

/** Clears the published mark of rows the queue did not take, so the next relay pass sends them. */
export async function unpublish(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('outbox').set({ published_at: null }).where('id', 'in', ids).where('status', '=', 'pending').execute();
}
