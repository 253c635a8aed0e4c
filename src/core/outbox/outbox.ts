import { sql, type Kysely } from 'kysely';
import type { Database, Db, OutboxRow } from '../db/schema.js';
import { isPostgres } from '../db/postgres.js';
import { inSet } from '../db/sets.js';
import type { UnitOfWork } from '../db/unit-of-work.js';

/** Work the pipeline knows how to do; one outbox topic per step. */
export const TOPICS = ['reserve', 'pay', 'confirm', 'notify', 'refund', 'ship', 'deliver'] as const;
export type Topic = (typeof TOPICS)[number];

export type { Db } from '../db/schema.js';

/** A claimed unit of work. `attempts` counts this delivery. */
export interface OutboxMessage {
  id: number;
  topic: Topic;
  orderId: string;
  payload: Record<string, unknown>;
  attempts: number;
}

export interface NewMessage {
  topic: Topic;
  orderId: string;
  payload?: Record<string, unknown>;
  /** Earliest time to run, ms since the epoch; default now. */
  availableAt?: number;
}

/** Adds messages to the unit of work, so they commit with the state change that caused them. */
export function enqueue(uow: UnitOfWork, messages: readonly NewMessage[]): void {
  const now = uow.now;
  uow.add(
    'outbox',
    messages.map((m) => ({
      topic: m.topic,
      order_id: m.orderId,
      payload: JSON.stringify(m.payload ?? {}),
      status: 'pending' as const,
      attempts: 0,
      available_at: m.availableAt ?? now,
      created_at: now,
    })),
  );
}

function toMessage(row: OutboxRow): OutboxMessage {
  return {
    id: row.id,
    topic: row.topic as Topic,
    orderId: row.order_id,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    attempts: row.attempts,
  };
}

export interface ClaimOptions {
  workerId: string;
  limit: number;
  /** How long the claim holds; a worker that dies lets the lease lapse and another picks the row up. */
  leaseMs: number;
  now: number;
}

/**
 * Ids of pending messages that are due and not leased, oldest first: what a worker may claim and
 * a relay may publish. On Postgres concurrent claimers skip each other's rows (SKIP LOCKED)
 * instead of queueing on them; SQLite has a single writer, so the question does not arise there.
 */
export function dueMessageIds(db: Kysely<Database>, now: number, limit: number, skipLocked = isPostgres(db)) {
  const due = db
    .selectFrom('outbox')
    .select('id')
    // A literal, not a parameter: the partial indexes (status = 'pending') must match in a prepared plan too.
    .where(sql<boolean>`status = 'pending'`)
    .where('available_at', '<=', now)
    .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', now)]))
    .orderBy('available_at')
    .orderBy('id')
    .limit(limit);
  return skipLocked ? due.forUpdate().skipLocked() : due;
}

/**
 * Leases messages to one worker and counts the attempt in the same statement, so a worker that
 * crashes mid-message still used up an attempt. `ids` narrows the claim to delivered messages.
 */
export async function claimDue(db: Kysely<Database>, o: ClaimOptions & { ids?: readonly number[] }): Promise<OutboxMessage[]> {
  if (o.ids?.length === 0) return [];
  // Delivered ids wait for a row another statement holds for a moment (a relay marking it
  // published): skipping it would acknowledge a delivery that did nothing. So no SKIP LOCKED there.
  const claim = db.updateTable('outbox').set((eb) => ({
    locked_until: o.now + o.leaseMs,
    locked_by: o.workerId,
    attempts: eb('attempts', '+', 1),
  }));
  // Delivered ids are looked up by key: ordering them by due time would walk the whole due index.
  const rows = await (
    o.ids
      ? claim
          .where(inSet(db, 'id', o.ids))
          .where(sql<boolean>`status = 'pending'`)
          .where('available_at', '<=', o.now)
          .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', o.now)]))
      : claim.where('id', 'in', dueMessageIds(db, o.now, o.limit))
  )
    .returningAll()
    .execute();
  return rows.map(toMessage).sort((a, b) => a.id - b.id);
}

/** Marks messages handled, in the transaction that applied their effect. */
export async function markDone(trx: Db, ids: readonly number[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await trx
    .updateTable('outbox')
    .set({ status: 'done', processed_at: now, locked_until: null, last_error: null })
    .where(inSet(trx, 'id', ids))
    .where('status', '=', 'pending')
    .execute();
}

/** Releases a failed message for another attempt after `delayMs` (a relay publishes it again then). */
export async function scheduleRetry(db: Db, id: number, error: string, delayMs: number, now: number): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ available_at: now + delayMs, locked_until: null, locked_by: null, published_at: null, last_error: error.slice(0, 1000) })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** Moves a message to the dead letters; returns false if it was no longer pending. */
export async function markDead(trx: Db, id: number, error: string, now: number): Promise<boolean> {
  const res = await trx
    .updateTable('outbox')
    .set({ status: 'dead', processed_at: now, locked_until: null, last_error: error.slice(0, 1000) })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Exponential backoff with full jitter, capped: spreads retries of a failing dependency. */
export function retryDelayMs(attempts: number, baseMs = 200, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
