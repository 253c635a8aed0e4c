import { sql, type Kysely } from 'kysely';
import type { Database, Db, OutboxRow } from '../db/schema.js';
import { isPostgres } from '../db/postgres.js';
import { inSet } from '../db/sets.js';
import type { UnitOfWork } from '../db/unit-of-work.js';

/**
 * Work the pipeline knows how to do, one topic per step. An order's pipeline run is one message
 * whose topic names the step it is at (`reserve`, `pay` or `confirm`): the claim moves it to the
 * step the order's status names, so a redelivered message resumes where the order stands. `notify`
 * is only drained: notifications are written with the transition that causes them; messages of
 * that topic come from before that change.
 */
export const TOPICS = ['reserve', 'pay', 'confirm', 'notify', 'refund', 'ship', 'deliver'] as const;
export type Topic = (typeof TOPICS)[number];

/** The steps of an order's pipeline run, in order: one message carries the order through them. */
export const ORDER_STEPS = ['reserve', 'pay', 'confirm'] as const;
export type OrderStep = (typeof ORDER_STEPS)[number];

/** The step that moves an order on from each in-progress status. */
export const STEP_OF_STATUS: Readonly<Record<string, OrderStep>> = { pending: 'reserve', reserved: 'pay', paid: 'confirm' };

/** True for the topics of an order's pipeline run. */
export const isOrderStep = (topic: string): topic is OrderStep => (ORDER_STEPS as readonly string[]).includes(topic);

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
  // An order's message moves to the step its order's status names, and its attempts count that
  // step's deliveries: a step it has not been at starts from 1. Same statement, no extra write;
  // none of these columns is indexed, so on Postgres the update can stay on its page (HOT).
  const step = stepOfOrderSql();
  const claim = db.updateTable('outbox').set(() => ({
    locked_until: o.now + o.leaseMs,
    locked_by: o.workerId,
    topic: step,
    attempts: sql<number>`case when ${step} = topic then attempts + 1 else 1 end`,
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

/** The topic an outbox row's claim gives it: for an order's run, the step its order's status names; else its own. */
function stepOfOrderSql() {
  const steps = Object.entries(STEP_OF_STATUS).map(([status, step]) => sql`when ${sql.lit(status)} then ${sql.lit(step)}`);
  return sql<string>`case when topic in (${sql.join(ORDER_STEPS.map((t) => sql.lit(t)))})
    then coalesce((select case o.status ${sql.join(steps, sql` `)} end from orders o where o.id = outbox.order_id), topic)
    else topic end`;
}

/** Deletes handled messages, in the transaction that applied their effect (a done message is not kept). */
export async function deleteDone(trx: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await trx.deleteFrom('outbox').where(inSet(trx, 'id', ids)).where('status', '=', 'pending').execute();
}

/** Where a failed message stands: the step it failed at and that step's attempts so far. */
export interface FailedAt {
  id: number;
  topic: Topic;
  attempts: number;
}

/**
 * Releases a failed message for another attempt after `delayMs` (a relay publishes it again then).
 * It keeps the step it failed at and that step's attempts, so the next claim counts on from them.
 */
export async function scheduleRetry(db: Db, m: FailedAt, error: string, delayMs: number, now: number): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ topic: m.topic, attempts: m.attempts, available_at: now + delayMs, locked_until: null, locked_by: null, published_at: null, last_error: error.slice(0, 1000) })
    .where('id', '=', m.id)
    .where('status', '=', 'pending')
    .execute();
}

/** Moves a message to the dead letters at the step it failed at; returns false if it was no longer pending. */
export async function markDead(trx: Db, m: FailedAt, error: string, now: number): Promise<boolean> {
  const res = await trx
    .updateTable('outbox')
    .set({ topic: m.topic, attempts: m.attempts, status: 'dead', processed_at: now, locked_until: null, last_error: error.slice(0, 1000) })
    .where('id', '=', m.id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Exponential backoff with full jitter, capped: spreads retries of a failing dependency. */
export function retryDelayMs(attempts: number, baseMs = 200, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
