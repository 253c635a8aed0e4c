import { sql } from 'kysely';
import type { Db } from '../db/schema.js';
import { isPostgres } from '../db/postgres.js';
import { inSet, rowSet } from '../db/sets.js';
import type { UnitOfWork } from '../db/unit-of-work.js';

/** One line of an order as stock sees it (intake merges lines of the same sku, so one per sku). */
export interface Line {
  sku: string;
  quantity: number;
}

/** Lines of several orders, by order id, each order's lines in sku order. */
export async function orderLines(db: Db, orderIds: readonly string[]): Promise<Map<string, Line[]>> {
  const out = new Map<string, Line[]>();
  if (orderIds.length === 0) return out;
  const rows = await db
    .selectFrom('order_items')
    .select(['order_id', 'sku', 'quantity'])
    .where(inSet(db, 'order_id', orderIds))
    .orderBy('order_id')
    .orderBy('sku')
    .execute();
  for (const r of rows) {
    let lines = out.get(r.order_id);
    if (!lines) out.set(r.order_id, (lines = []));
    lines.push({ sku: r.sku, quantity: Number(r.quantity) });
  }
  return out;
}

/**
 * Takes, in sku order, the row locks of every product these orders hold or want, and returns the
 * orders' lines read with them (what most callers change next). A transaction that changes stock
 * for several orders calls it before touching any order, so two such transactions never wait on
 * each other in a cycle (on Postgres, where writers run concurrently; SQLite has one writer and
 * needs no lock).
 */
export async function lockStockOf(trx: Db, orderIds: readonly string[]): Promise<Map<string, Line[]>> {
  if (orderIds.length === 0 || !isPostgres(trx)) return orderLines(trx, orderIds);
  const rows = await trx
    .selectFrom('order_items')
    .innerJoin('products', 'products.sku', 'order_items.sku')
    .select(['order_items.order_id', 'order_items.sku', 'order_items.quantity'])
    .where(inSet(trx, 'order_items.order_id', orderIds))
    .orderBy('products.sku')
    .orderBy('order_items.order_id')
    // The lock an UPDATE of stock takes anyway; unlike FOR UPDATE it lets intake's foreign-key
    // checks on these products through (KEY SHARE), so intake never waits for a worker batch.
    .forNoKeyUpdate('products')
    .execute();
  const out = new Map<string, Line[]>();
  for (const r of rows) {
    let lines = out.get(r.order_id);
    if (!lines) out.set(r.order_id, (lines = []));
    lines.push({ sku: r.sku, quantity: Number(r.quantity) });
  }
  return out;
}

/** Stock available (on hand minus reserved) of these products, read under their row locks on Postgres. */
async function available(trx: Db, skus: readonly string[]): Promise<Map<string, number>> {
  let q = trx
    .selectFrom('products')
    .select(['sku', sql<number>`on_hand - reserved`.as('available')])
    .where(inSet(trx, 'sku', skus))
    .orderBy('sku');
  if (isPostgres(trx)) q = q.forNoKeyUpdate();
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.sku, Number(r.available)]));
}

type MovementKind = 'reserve' | 'release' | 'sale' | 'restock' | 'return';

// How each kind moves the two counters, per unit of quantity.
const SIGNS: Record<MovementKind, { onHand: number; reserved: number }> = {
  reserve: { onHand: 0, reserved: 1 },
  release: { onHand: 0, reserved: -1 },
  sale: { onHand: -1, reserved: -1 },
  restock: { onHand: 1, reserved: 0 },
  return: { onHand: 1, reserved: 0 },
};

/**
 * Applies one kind of movement for many orders in one statement (`UPDATE products … FROM` the
 * per-sku sums) and collects one ledger row per order line. A reservation is conditional
 * (`on_hand - reserved >= q` on the summed quantity, so it holds for every order in the sum); if a
 * product refuses, the whole call throws and the caller's transaction rolls back.
 */
async function moveStock(uow: UnitOfWork, kind: MovementKind, orders: ReadonlyMap<string, readonly Line[]>, reason: string | null): Promise<void> {
  const sums = new Map<string, number>();
  for (const lines of orders.values()) for (const l of lines) sums.set(l.sku, (sums.get(l.sku) ?? 0) + l.quantity);
  if (sums.size === 0) return;
  const { onHand, reserved } = SIGNS[kind];
  const skus = [...sums.keys()].sort();
  const qty = skus.map((s) => sums.get(s)!);
  const v = rowSet(uow.trx, 'v', [
    { name: 'sku', type: 'text', values: skus },
    { name: 'q', type: 'bigint', values: qty },
  ]);
  const guard = kind === 'reserve' ? sql`and products.on_hand - products.reserved >= v.q` : sql``;
  const res = await sql`update products set on_hand = products.on_hand + ${onHand} * v.q, reserved = products.reserved + ${reserved} * v.q, updated_at = ${uow.now} from ${v} where products.sku = v.sku ${guard}`.execute(uow.trx);
  if (Number(res.numAffectedRows ?? 0) !== skus.length) throw new Error(`stock ${kind}: ${skus.length - Number(res.numAffectedRows ?? 0)} of ${skus.length} products refused the change`);
  uow.stockChanged(skus);
  const ledger = [];
  for (const [orderId, lines] of orders) {
    for (const l of lines) {
      ledger.push({ sku: l.sku, order_id: orderId, kind, on_hand_delta: onHand * l.quantity, reserved_delta: reserved * l.quantity, reason, at: uow.now });
    }
  }
  uow.add('stock_movements', ledger);
}

/**
 * Decides which orders' reservations fit, all lines of an order or none, taking orders in the
 * given order against the stock available now (read under the product locks the batch holds).
 * Returns the orders that fit and those that fall short; nothing is written.
 */
export async function planReservations(trx: Db, orders: ReadonlyMap<string, readonly Line[]>): Promise<{ fit: string[]; short: string[] }> {
  const skus = new Set<string>();
  for (const lines of orders.values()) for (const l of lines) skus.add(l.sku);
  const left = await available(trx, [...skus].sort());
  const fit: string[] = [];
  const short: string[] = [];
  for (const [orderId, lines] of orders) {
    if (lines.length > 0 && lines.every((l) => (left.get(l.sku) ?? 0) >= l.quantity)) {
      for (const l of lines) left.set(l.sku, left.get(l.sku)! - l.quantity);
      fit.push(orderId);
    } else short.push(orderId);
  }
  return { fit, short };
}

/**
 * Reserves every line of these orders, with one conditional update for all of them
 * (`reserved += q WHERE on_hand - reserved >= q`, never read-then-write); plan with
 * {@link planReservations} first. Throws (and so rolls back the unit) if any product refuses.
 */
export function reserveStock(uow: UnitOfWork, orders: ReadonlyMap<string, readonly Line[]>): Promise<void> {
  return moveStock(uow, 'reserve', orders, null);
}

/** Gives the reserved stock of these orders back (compensation). */
export async function releaseStock(uow: UnitOfWork, orderIds: readonly string[], reason: string, lines?: ReadonlyMap<string, readonly Line[]>): Promise<void> {
  await moveStock(uow, 'release', await linesOf(uow, orderIds, lines), reason);
}

/** Turns these orders' reservations into sales: stock leaves the shelf. `lines`: as {@link lockStockOf} read them. */
export async function sellStock(uow: UnitOfWork, orderIds: readonly string[], lines?: ReadonlyMap<string, readonly Line[]>): Promise<void> {
  await moveStock(uow, 'sale', await linesOf(uow, orderIds, lines), null);
}

/** Puts the sold lines of these orders back on hand (a confirmed order cancelled before it shipped). */
export async function restockSold(uow: UnitOfWork, orderIds: readonly string[], reason: string, lines?: ReadonlyMap<string, readonly Line[]>): Promise<void> {
  await moveStock(uow, 'restock', await linesOf(uow, orderIds, lines), reason);
}

/** These orders' lines: from `lines` when the caller read them with its locks ({@link lockStockOf}), else read now. */
async function linesOf(uow: UnitOfWork, orderIds: readonly string[], lines?: ReadonlyMap<string, readonly Line[]>): Promise<Map<string, readonly Line[]>> {
  if (!lines) return orderLines(uow.trx, orderIds);
  return new Map(orderIds.flatMap((id) => (lines.has(id) ? [[id, lines.get(id)!] as const] : [])));
}

/** Puts received returned lines of an order back on hand (a `return` movement; an order may have several). */
export async function restockReturned(uow: UnitOfWork, orderId: string, lines: readonly Line[], reason: string): Promise<void> {
  await moveStock(uow, 'return', new Map([[orderId, lines]]), reason);
}
