import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { inSet } from '../db/sets.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { HOLDS_RESERVATION, type OrderStatus } from '../domain/order-status.js';
import { BuildflowError } from '../errors.js';
import { getOrder } from '../orders/queries.js';

/** Which dead letters a bulk action takes; at least one field must be set (`all` to take every one). */
export interface DeadLetterFilter {
  step?: string;
  /** A substring of the last error, compared case-insensitively. */
  reason?: string;
  /** Dead at or after this time (ms since the epoch). */
  since?: number;
  /** Dead before this time (ms since the epoch). */
  until?: number;
  /** One order, by id or reference. */
  order?: string;
  all?: boolean;
}

/** One dead letter a bulk action takes, with what its order holds. */
export interface DeadLetterImpact {
  id: number;
  step: string;
  orderId: string;
  reference: string;
  orderStatus: OrderStatus;
  /** Units of stock the order holds reserved now. */
  stockHeld: number;
  /** Money captured for the order and not refunded, in cents. */
  capturedCents: number;
  lastError: string | null;
  deadAt: string | null;
}

export interface BulkResult {
  action: 'retry' | 'discard';
  dryRun: boolean;
  /** Dead letters matched (and, unless a dry run, acted on). */
  count: number;
  stockHeld: number;
  capturedCents: number;
  items: DeadLetterImpact[];
}

export function hasFilter(f: DeadLetterFilter): boolean {
  return Boolean(f.all) || [f.step, f.reason, f.since, f.until, f.order].some((v) => v !== undefined);
}

/** The dead letters `f` matches, oldest first, with their orders' stock and money. */
export async function matchDeadLetters(db: Kysely<Database>, f: DeadLetterFilter): Promise<DeadLetterImpact[]> {
  if (!hasFilter(f)) throw new BuildflowError('VALIDATION_FAILED', 'name the dead letters: --step, --reason, --since, --until, --order, or --all');
  let q = db
    .selectFrom('outbox')
    .innerJoin('orders', 'orders.id', 'outbox.order_id')
    .select(['outbox.id', 'outbox.topic', 'outbox.order_id', 'outbox.last_error', 'outbox.processed_at', 'orders.reference', 'orders.status'])
    .where('outbox.status', '=', 'dead')
    .orderBy('outbox.id');
  if (f.step !== undefined) q = q.where('outbox.topic', '=', f.step);
  if (f.since !== undefined) q = q.where('outbox.processed_at', '>=', f.since);
  if (f.until !== undefined) q = q.where('outbox.processed_at', '<', f.until);
  if (f.order !== undefined) q = q.where('outbox.order_id', '=', (await getOrder(db, f.order)).id);
  let rows = await q.execute();
  // In JavaScript: LIKE's case rules and escapes differ between SQLite and Postgres.
  if (f.reason !== undefined) {
    const needle = f.reason.toLowerCase();
    rows = rows.filter((r) => (r.last_error ?? '').toLowerCase().includes(needle));
  }
  const orderIds = [...new Set(rows.map((r) => r.order_id))];
  const stock = new Map<string, number>();
  const money = new Map<string, number>();
  if (orderIds.length > 0) {
    const holding = rows.filter((r) => HOLDS_RESERVATION.includes(r.status)).map((r) => r.order_id);
    if (holding.length > 0) {
      const items = await db.selectFrom('order_items').select(['order_id', 'quantity']).where(inSet(db, 'order_id', [...new Set(holding)])).execute();
      for (const i of items) stock.set(i.order_id, (stock.get(i.order_id) ?? 0) + Number(i.quantity));
    }
    const pays = await db.selectFrom('payments').select(['order_id', 'amount_cents']).where(inSet(db, 'order_id', orderIds)).where('status', '=', 'captured').execute();
    for (const p of pays) money.set(p.order_id, Number(p.amount_cents));
  }
  return rows.map((r) => ({
    id: r.id,
    step: r.topic,
    orderId: r.order_id,
    reference: r.reference,
    orderStatus: r.status,
    stockHeld: stock.get(r.order_id) ?? 0,
    capturedCents: money.get(r.order_id) ?? 0,
    lastError: r.last_error,
    deadAt: r.processed_at === null ? null : new Date(Number(r.processed_at)).toISOString(),
  }));
}

/**
 * Re-drives (`retry`) or discards the dead letters `f` matches. A retried message is pending with a
 * fresh attempt budget: its claim moves it to the step its order's status names, and steps are
 * guarded by that status, so an order whose run is over only loses the message. A discarded one
 * keeps its row (the order's story) with status `discarded`. `dryRun` changes nothing and reports
 * the same. Nothing matched is NOT_FOUND.
 */
export async function bulkDeadLetters(units: UnitRunner, action: 'retry' | 'discard', f: DeadLetterFilter, dryRun = false): Promise<BulkResult> {
  const matched = await matchDeadLetters(units.db, f);
  if (matched.length === 0) throw new BuildflowError('DEAD_LETTER_NOT_FOUND', 'no dead letters match');
  let items = matched;
  if (!dryRun) {
    const ids = matched.map((m) => m.id);
    const changed = await units.run(
      async (uow) => {
        const done = new Set<number>();
        for (let i = 0; i < ids.length; i += 500) {
          const chunk = ids.slice(i, i + 500);
          const q =
            action === 'retry'
              ? uow.trx
                  .updateTable('outbox')
                  // published_at cleared too, so a relay publishes it now rather than after the republish bound;
                  // processed_at keeps when it died, so the order's trace shows the re-drive.
                  .set({ status: 'pending', attempts: 0, available_at: uow.now, locked_until: null, locked_by: null, published_at: null })
              : uow.trx.updateTable('outbox').set({ status: 'discarded', locked_until: null, locked_by: null });
          const rows = await q.where(inSet(uow.trx, 'id', chunk)).where('status', '=', 'dead').returning('id').execute();
          for (const r of rows) done.add(r.id);
        }
        if (action === 'retry' && done.size > 0) uow.noteWorkDue();
        return done;
      },
      { durable: true },
    );
    // Another operator may have taken some in between: report what this run changed.
    items = matched.filter((m) => changed.has(m.id));
    if (items.length === 0) throw new BuildflowError('DEAD_LETTER_NOT_FOUND', 'no dead letters match');
  }
  return {
    action,
    dryRun,
    count: items.length,
    stockHeld: sum(items, (i) => i.stockHeld),
    capturedCents: sum(items, (i) => i.capturedCents),
    items,
  };
}

/** Counts each order once: two dead letters of one order hold its stock once. */
function sum(items: readonly DeadLetterImpact[], of: (i: DeadLetterImpact) => number): number {
  const seen = new Map<string, number>();
  for (const i of items) seen.set(i.orderId, of(i));
  return [...seen.values()].reduce((a, b) => a + b, 0);
}
