import type { Db } from '../outbox/outbox.js';
import { insertOrDefer } from '../db/deferred-inserts.js';
import { noteStockChange } from './stock-changes.js';
import { isPostgres } from '../db/postgres.js';

interface Line {
  sku: string;
  quantity: number;
}

// In sku order: every transaction that changes stock takes product rows in the same order.
async function orderLines(trx: Db, orderId: string): Promise<Line[]> {
  return trx.selectFrom('order_items').select(['sku', 'quantity']).where('order_id', '=', orderId).orderBy('sku').orderBy('line_no').execute();
}

/**
 * Takes, in sku order, the row locks of every product these orders hold or want. A transaction
 * that changes stock for several orders calls it before touching any order, so two such
 * transactions never wait on each other in a cycle (on Postgres, where writers run concurrently;
 * SQLite has one writer and needs nothing).
 */
export async function lockStockOf(trx: Db, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0 || !isPostgres(trx)) return;
  await trx
    .selectFrom('products')
    .select('sku')
    .where('sku', 'in', (eb) => eb.selectFrom('order_items').select('sku').where('order_id', 'in', orderIds))
    .orderBy('sku')
    // The lock an UPDATE of stock takes anyway; unlike FOR UPDATE it lets intake's foreign-key
    // checks on these products through (KEY SHARE), so intake never waits for a worker batch.
    .forNoKeyUpdate()
    .execute();
}

/**
 * Reserves every line of an order or none. Each line is a conditional update
 * (`reserved += q WHERE on_hand - reserved >= q`), never read-then-write, so concurrent orders can
 * not oversell. On a shortfall the lines already taken are given back in the same transaction and
 * the skus that were short are returned; the ledger is written only when all lines succeed.
 */
export async function reserveOrderStock(trx: Db, orderId: string, now: number): Promise<{ short: string[] }> {
  const lines = await orderLines(trx, orderId);
  const taken: Line[] = [];
  for (const line of lines) {
    const res = await trx
      .updateTable('products')
      .set((eb) => ({ reserved: eb('reserved', '+', line.quantity), updated_at: now }))
      .where('sku', '=', line.sku)
      .where((eb) => eb(eb('on_hand', '-', eb.ref('reserved')), '>=', line.quantity))
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) {
      for (const t of taken) {
        await trx
          .updateTable('products')
          .set((eb) => ({ reserved: eb('reserved', '-', t.quantity) }))
          .where('sku', '=', t.sku)
          .execute();
      }
      return { short: [line.sku] };
    }
    taken.push(line);
  }
  noteStockChange(trx, lines.map((l) => l.sku));
  await writeLedger(trx, orderId, lines, 'reserve', 0, 1, now);
  return { short: [] };
}

/** Gives an order's reserved stock back (compensation). */
export async function releaseOrderStock(trx: Db, orderId: string, reason: string, now: number): Promise<void> {
  const lines = await orderLines(trx, orderId);
  for (const line of lines) {
    await trx
      .updateTable('products')
      .set((eb) => ({ reserved: eb('reserved', '-', line.quantity), updated_at: now }))
      .where('sku', '=', line.sku)
      .execute();
  }
  noteStockChange(trx, lines.map((l) => l.sku));
  await writeLedger(trx, orderId, lines, 'release', 0, -1, now, reason);
}

/** Turns an order's reservation into a sale: stock leaves the shelf. */
export async function sellOrderStock(trx: Db, orderId: string, now: number): Promise<void> {
  const lines = await orderLines(trx, orderId);
  for (const line of lines) {
    await trx
      .updateTable('products')
      .set((eb) => ({
        on_hand: eb('on_hand', '-', line.quantity),
        reserved: eb('reserved', '-', line.quantity),
        updated_at: now,
      }))
      .where('sku', '=', line.sku)
      .execute();
  }
  noteStockChange(trx, lines.map((l) => l.sku));
  await writeLedger(trx, orderId, lines, 'sale', -1, -1, now);
}

async function writeLedger(
  trx: Db,
  orderId: string,
  lines: readonly Line[],
  kind: 'reserve' | 'release' | 'sale',
  onHandSign: number,
  reservedSign: number,
  now: number,
  reason: string | null = null,
): Promise<void> {
  await insertOrDefer(
    trx,
    'stock_movements',
    lines.map((l) => ({
      sku: l.sku,
      order_id: orderId,
      kind,
      on_hand_delta: onHandSign * l.quantity,
      reserved_delta: reservedSign * l.quantity,
      reason,
      at: now,
    })),
  );
}
