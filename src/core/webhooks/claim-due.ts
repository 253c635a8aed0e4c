import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import { isPostgres } from '../db/postgres.js';

/** The tables that are their own queue: a row per thing to send, with a due time and a lease. */
export type DeliveryTable = 'webhook_deliveries' | 'email_messages';

export interface DeliveryClaim {
  workerId: string;
  limit: number;
  /** Longer than one attempt can take; a worker that dies lets it lapse and another takes the row. */
  leaseMs: number;
  now: number;
}

/**
 * Leases due pending rows to one worker and counts the attempt in the same statement, so an
 * attempt cut short by a crash still counts. On Postgres concurrent workers skip each other's
 * rows (SKIP LOCKED); SQLite has one writer.
 */
export async function claimDueRows<T extends DeliveryTable>(db: Kysely<Database>, table: T, o: DeliveryClaim): Promise<Selectable<Database[T]>[]> {
  // The two tables share these columns; kysely cannot type a query over either, so it runs untyped.
  const any = db as unknown as Kysely<any>;
  const name = table as string;
  let due = any
    .selectFrom(name)
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', o.now)
    .where((w: any) => w.or([w('locked_until', 'is', null), w('locked_until', '<', o.now)]))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(o.limit);
  if (isPostgres(db)) due = due.forUpdate().skipLocked();
  const rows = await any
    .updateTable(name)
    .set((eb: any) => ({ locked_until: o.now + o.leaseMs, locked_by: o.workerId, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', due)
    .returningAll()
    .execute();
  return (rows as { id: number }[]).sort((a, b) => a.id - b.id) as Selectable<Database[T]>[];
}
