import type { Kysely, Selectable } from 'kysely';
import type { Database, ProductRow, StockMovementsTable } from '../db/schema.js';
import { recordStockLevels } from '../webhooks/record-events.js';
import type { UnitOfWork, UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { pageByKey } from '../keyset-page.js';
import type { Page } from '../pagination.js';

/** A product as every caller sees it. `available` is what new orders can still reserve. */
export interface ProductView {
  sku: string;
  name: string;
  category: string;
  unitPriceCents: number;
  onHand: number;
  reserved: number;
  available: number;
  updatedAt: string;
}

export function toProductView(p: ProductRow): ProductView {
  return {
    sku: p.sku,
    name: p.name,
    category: p.category,
    unitPriceCents: p.unit_price_cents,
    onHand: p.on_hand,
    reserved: p.reserved,
    available: p.on_hand - p.reserved,
    updatedAt: new Date(p.updated_at).toISOString(),
  };
}

export interface ListProductsQuery {
  category?: string;
  limit?: number;
  cursor?: string;
}

/** Products ordered by sku, optionally of one category. */
export async function listProducts(db: Kysely<Database>, q: ListProductsQuery): Promise<Page<ProductView>> {
  let query = db.selectFrom('products').selectAll();
  if (q.category) query = query.where('category', '=', q.category);
  return pageByKey(query, q, { column: 'sku', type: 'string', order: 'asc', of: (r) => r.sku }, (rows) => rows.map(toProductView));
}

/** What a product read needs of a cache (product-cache.ts's ProductCache has this shape). */
export interface ProductReadCache {
  get(sku: string): Promise<ProductView | undefined>;
  set(product: ProductView): Promise<void>;
}

/**
 * One product by sku; with a cache, read from it when it holds the product and filled on a miss
 * (cache-aside: every committed stock or price change drops the entry, see deployment-units.ts).
 */
export async function getProduct(db: Kysely<Database>, sku: string, cache?: ProductReadCache): Promise<ProductView> {
  const cached = await cache?.get(sku);
  if (cached) return cached;
  const row = await db.selectFrom('products').selectAll().where('sku', '=', sku).executeTakeFirst();
  if (!row) throw new BuildflowError('PRODUCT_NOT_FOUND', `product ${sku} not found`);
  const product = toProductView(row);
  await cache?.set(product);
  return product;
}

export interface ProductInput {
  sku: string;
  name: string;
  category: string;
  unitPriceCents: number;
  /** Initial stock of a new product (ignored when the product exists: stock changes go through adjustStock). */
  onHand?: number;
}

/**
 * Creates a product or updates its name, category and price. Stock of an existing product is left
 * alone; a new product's initial stock is written to the ledger.
 */
export async function upsertProduct(units: UnitRunner, input: ProductInput): Promise<{ product: ProductView; created: boolean }> {
  return units.run((uow) => saveProductIn(uow, input), { durable: true });
}

/** {@link upsertProduct} inside the caller's unit of work (the seeder writes a whole catalog in one). */
export async function saveProductIn(uow: UnitOfWork, input: ProductInput): Promise<{ product: ProductView; created: boolean }> {
  const { trx, now } = uow;
  const updated = await trx
    .updateTable('products')
    .set({ name: input.name, category: input.category, unit_price_cents: input.unitPriceCents, updated_at: now })
    .where('sku', '=', input.sku)
    .executeTakeFirst();
  const created = Number(updated.numUpdatedRows) === 0;
  if (created) {
    const onHand = input.onHand ?? 0;
    await trx
      .insertInto('products')
      .values({ sku: input.sku, name: input.name, category: input.category, unit_price_cents: input.unitPriceCents, on_hand: onHand, reserved: 0, created_at: now, updated_at: now })
      .execute();
    if (onHand !== 0) {
      uow.add('stock_movements', [{ sku: input.sku, order_id: null, kind: 'adjust', on_hand_delta: onHand, reserved_delta: 0, reason: 'initial stock', at: now }]);
    }
  }
  uow.stockChanged([input.sku]);
  const row = await trx.selectFrom('products').selectAll().where('sku', '=', input.sku).executeTakeFirstOrThrow();
  return { product: toProductView(row), created };
}

export type StockAdjustment = { set: number; reason?: string } | { delta: number; reason: string };

/**
 * Changes stock on hand by a delta or to an absolute count, with a ledger row. Refuses to go below
 * zero or below what is reserved for orders in flight.
 */
export async function adjustStock(units: UnitRunner, sku: string, adj: StockAdjustment): Promise<ProductView> {
  return units.run(async (uow) => {
    const { trx, now } = uow;
    const current = await trx.selectFrom('products').select(['on_hand', 'reserved']).where('sku', '=', sku).executeTakeFirst();
    if (!current) throw new BuildflowError('PRODUCT_NOT_FOUND', `product ${sku} not found`);
    const delta = 'set' in adj ? adj.set - current.on_hand : adj.delta;
    const target = current.on_hand + delta;
    if (target < current.reserved) {
      throw new BuildflowError(
        'STOCK_BELOW_RESERVED',
        `stock of ${sku} cannot go to ${target}: ${current.reserved} are reserved for orders in progress`,
        { reserved: current.reserved },
      );
    }
    if (delta !== 0) {
      // Guarded on the values read, so a reservation that slipped in between cannot be undercut.
      const res = await trx
        .updateTable('products')
        .set({ on_hand: target, updated_at: now })
        .where('sku', '=', sku)
        .where('on_hand', '=', current.on_hand)
        .where('reserved', '<=', target)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) {
        throw new BuildflowError('STOCK_BELOW_RESERVED', `stock of ${sku} changed meanwhile; retry the adjustment`);
      }
      uow.add('stock_movements', [{ sku, order_id: null, kind: 'adjust', on_hand_delta: delta, reserved_delta: 0, reason: adj.reason ?? ('set' in adj ? `set to ${adj.set}` : null), at: now }]);
      uow.stockChanged([sku]);
      if (delta < 0) uow.noteDeliveries(await recordStockLevels(trx, [{ sku, onHandBefore: current.on_hand }], now));
    }
    const row = await trx.selectFrom('products').selectAll().where('sku', '=', sku).executeTakeFirstOrThrow();
    return toProductView(row);
  }, { durable: true });
}

export interface MovementView {
  id: number;
  kind: string;
  onHandDelta: number;
  reservedDelta: number;
  orderId?: string;
  reason?: string;
  at: string;
}

/** The ledger of one product, newest first. */
export async function listMovements(db: Kysely<Database>, sku: string, q: { limit?: number; cursor?: string }): Promise<Page<MovementView>> {
  await getProduct(db, sku);
  const query = db.selectFrom('stock_movements').selectAll().where('sku', '=', sku);
  return pageByKey(query, q, { column: 'id', type: 'number', order: 'desc', of: (m) => m.id }, (rows) => rows.map(toMovementView));
}

function toMovementView(m: Selectable<StockMovementsTable>): MovementView {
  return {
    id: m.id,
    kind: m.kind,
    onHandDelta: m.on_hand_delta,
    reservedDelta: m.reserved_delta,
    ...(m.order_id ? { orderId: m.order_id } : {}),
    ...(m.reason ? { reason: m.reason } : {}),
    at: new Date(m.at).toISOString(),
  };
}
