import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { Db } from '../outbox/outbox.js';
import type { FinalOrder, OrderFinalNote, SettlingMessage } from './events.js';

// Final states noted by a transaction, keyed by the transaction object like stock changes
// (catalog/stock-changes.ts): the code that started the transaction reports them only once it
// has committed, so a rolled-back batch reports nothing.
const noted = new WeakMap<object, OrderFinalNote[]>();

/** Records, in the caller's transaction, that an order moved to `to` (kept only when `to` is final for the pipeline). */
export function noteOrderFinal(trx: Db, orderId: string, to: OrderStatus, reason: string | null, at: number): void {
  if (to !== 'confirmed' && to !== 'cancelled') return;
  let list = noted.get(trx);
  if (!list) noted.set(trx, (list = []));
  list.push({ orderId, status: to, reason, at });
}

/** The final states a committed transaction made (and forgets them). */
export function takeOrderFinals(trx: Db): OrderFinalNote[] {
  const list = noted.get(trx);
  noted.delete(trx);
  return list ?? [];
}

// Bounds one lookup's IN list (SQLite allows 32,766 bound values; Postgres 65,535).
const LOOKUP_CHUNK = 500;

/**
 * Adds each settled order's reference, total and placement time, in one query per 500 orders,
 * and the message that settled it where `messageOf` knows it. If the query fails, the fields are
 * null rather than the final state lost.
 */
export async function describeOrderFinals(
  db: Kysely<Database>,
  notes: readonly OrderFinalNote[],
  messageOf?: (orderId: string) => SettlingMessage | undefined,
): Promise<FinalOrder[]> {
  const out: FinalOrder[] = [];
  for (let i = 0; i < notes.length; i += LOOKUP_CHUNK) {
    const chunk = notes.slice(i, i + LOOKUP_CHUNK);
    let rows: { id: string; reference: string; total_cents: number; created_at: number }[] = [];
    try {
      rows = await db
        .selectFrom('orders')
        .select(['id', 'reference', 'total_cents', 'created_at'])
        .where('id', 'in', [...new Set(chunk.map((n) => n.orderId))])
        .execute();
    } catch {
      // The database went away after the commit: report what is known.
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const n of chunk) {
      const row = byId.get(n.orderId);
      const message = messageOf?.(n.orderId);
      out.push({
        ...n,
        reference: row?.reference ?? null,
        totalCents: row ? Number(row.total_cents) : null,
        placedAt: row ? Number(row.created_at) : null,
        ...(message ? { message } : {}),
      });
    }
  }
  return out;
}
