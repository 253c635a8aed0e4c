import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';

export interface DeadLetterView {
  id: number;
  topic: string;
  orderId: string;
  attempts: number;
  lastError: string | null;
  deadAt: string | null;
}

/** Messages that ran out of attempts, newest first. */
export async function listDeadLetters(db: Kysely<Database>, limit = 100): Promise<DeadLetterView[]> {
  const rows = await db.selectFrom('outbox').selectAll().where('status', '=', 'dead').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    topic: r.topic,
    orderId: r.order_id,
    attempts: r.attempts,
    lastError: r.last_error,
    deadAt: r.processed_at === null ? null : new Date(r.processed_at).toISOString(),
  }));
}

/**
 * Puts a dead message back in the queue with a fresh attempt budget. Safe whatever happened since:
 * steps are guarded by the order's status, so re-driving work that no longer applies does nothing.
 */
export async function redriveDeadLetter(units: UnitRunner, id: number): Promise<void> {
  await units.run(
    async ({ trx, now }) => {
      const res = await trx
    .updateTable('outbox')
    // published_at cleared too, so a relay publishes it now rather than after the republish bound.
    .set({ status: 'pending', attempts: 0, available_at: now, locked_until: null, locked_by: null, processed_at: null, published_at: null })
    .where('id', '=', id)
    .where('status', '=', 'dead')
    .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new BuildflowError('DEAD_LETTER_NOT_FOUND', `no dead letter with id ${id}`);
    },
    { durable: true },
  );
}
