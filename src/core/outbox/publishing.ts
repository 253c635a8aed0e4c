import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { isPostgres } from '../db/postgres.js';
import { toMessage, type OutboxMessage, type Topic } from './outbox.js';

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
}

/**
 * Marks up to `limit` due, unleased, unpublished rows as published and returns them, in one
 * statement. On Postgres concurrent relays skip each other's rows (SKIP LOCKED), so they never
 * publish one row twice at once; a relay that dies before publishing leaves rows marked that the
 * republish bound brings back. A duplicate publish is harmless: bee-queue refuses a job id it
 * holds, and steps are idempotent.
 */
export async function claimForPublishing(db: Kysely<Database>, o: PublishClaimOptions): Promise<Publication[]> {
  const skipLocked = isPostgres(db);
  const rows = await db
    .updateTable('outbox')
    .set({ published_at: o.now })
    .where('id', 'in', (eb) => {
      const due = eb
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'pending')
        .where('available_at', '<=', o.now)
        .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', o.now)]))
        .where((w) => w.or([w('published_at', 'is', null), w('published_at', '<', o.now - o.republishAfterMs)]))
        .orderBy('available_at')
        .orderBy('id')
        .limit(o.limit);
      return skipLocked ? due.forUpdate().skipLocked() : due;
    })
    .returning(['id', 'topic', 'order_id'])
    .execute();
  return rows.map((r) => ({ id: r.id, topic: r.topic as Topic, orderId: r.order_id })).sort((a, b) => a.id - b.id);
}

/** Clears the published mark of rows the queue did not take, so the next relay pass sends them. */
export async function unpublish(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('outbox').set({ published_at: null }).where('id', 'in', ids).where('status', '=', 'pending').execute();
}

export interface ClaimByIdsOptions {
  workerId: string;
  leaseMs: number;
  now: number;
}

/**
 * Leases the delivered messages that still need work and counts the attempt, as the embedded
 * claim does. A message already done, dead, leased by another worker (a duplicate delivery) or
 * not yet due is left out: its delivery is acknowledged and the database decides what comes next.
 */
export async function claimByIds(db: Kysely<Database>, ids: readonly number[], o: ClaimByIdsOptions): Promise<OutboxMessage[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('outbox')
    .set((eb) => ({ locked_until: o.now + o.leaseMs, locked_by: o.workerId, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', ids)
    .where('status', '=', 'pending')
    .where('available_at', '<=', o.now)
    .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', o.now)]))
    .returningAll()
    .execute();
  return rows.map(toMessage).sort((a, b) => a.id - b.id);
}
