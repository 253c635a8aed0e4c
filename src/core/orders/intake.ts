import type { Insertable, Kysely } from 'kysely';
import type { Database, OrderItemsTable, OrdersTable } from '../db/schema.js';
import { insertChunked } from '../db/insert-chunked.js';
import { BuildflowError } from '../errors.js';
import { newOrderId, newOrderReference } from '../ids.js';
import { priceItems, type RequestedItem } from '../domain/pricing.js';
import type { Db } from '../outbox/outbox.js';
import { toOrderView, type OrderView } from './order-view.js';
import { orderRequestHash } from './request-hash.js';
import { validateItems } from './validate-items.js';

/** Idempotency keys are scoped by operation, so one key may be used for different kinds of request. */
export const ORDER_IDEMPOTENCY_SCOPE = 'POST /v1/orders';
// Orders committed together at most; bounds one transaction's size and latency.
const MAX_BATCH = 256;

export interface PlaceOrderInput {
  items: RequestedItem[];
  idempotencyKey?: string;
}

export interface PlaceOrderResult {
  order: OrderView;
  /** True when the idempotency key was seen before and the stored response is returned. */
  replayed: boolean;
}

interface Pending {
  input: PlaceOrderInput;
  hash: string;
  resolve(result: PlaceOrderResult): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; value: PlaceOrderResult; created: boolean } | { ok: false; error: BuildflowError };

export interface IntakeOptions {
  maxItemsPerOrder: number;
  /** Called after a batch with new orders committed: wakes in-process workers. */
  onCommitted?: () => void;
  clock?: () => number;
  /** Most orders per transaction (default 256); 1 turns group commit off. */
  maxBatch?: number;
  /** Resolves once committed work is on stable storage; answers wait for it. */
  durable?: () => Promise<void>;
}

/**
 * Order intake with group commit. Every order is committed, with its history row, its outbox
 * message and its idempotency record, and made durable before its promise resolves; orders that
 * arrive while a commit is in progress are committed together in the next transaction, and
 * batches committed while an fsync runs share the next one.
 */
export class OrderIntake {
  private queue: Pending[] = [];
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: IntakeOptions,
  ) {}

  /** Places an order; resolves once it is durably committed. */
  place(input: PlaceOrderInput): Promise<PlaceOrderResult> {
    try {
      validateItems(input.items, this.options.maxItemsPerOrder);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, hash: orderRequestHash(input.items), resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let the requests already read from sockets in this turn of the loop join the batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, this.options.maxBatch ?? MAX_BATCH));
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction().execute((trx) => this.write(trx, batch));
    } catch (err) {
      // One bad request must not fail its neighbours: retry each alone to find it.
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      for (const p of batch) await this.commit([p]);
      return;
    }
    if (outcomes.some((o) => o.ok && o.created)) this.options.onCommitted?.();
    const settle = () => outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)));
    // Not awaited: the next batch is written while this one's fsync runs on the thread pool.
    if (this.options.durable) this.options.durable().then(settle, (err) => batch.forEach((p) => p.reject(err)));
    else settle();
  }

  private async write(trx: Db, batch: readonly Pending[]): Promise<Outcome[]> {
    const now = (this.options.clock ?? Date.now)();
    const keys = [...new Set(batch.flatMap((p) => (p.input.idempotencyKey ? [p.input.idempotencyKey] : [])))];
    const seen = new Map<string, { hash: string; body: string }>();
    if (keys.length > 0) {
      const rows = await trx
        .selectFrom('idempotency_keys')
        .select(['key', 'request_hash', 'response_body'])
        .where('scope', '=', ORDER_IDEMPOTENCY_SCOPE)
        .where('key', 'in', keys)
        .execute();
      for (const r of rows) seen.set(r.key, { hash: r.request_hash, body: r.response_body });
    }
    const skus = [...new Set(batch.flatMap((p) => p.input.items.map((i) => i.sku)))];
    const products = await trx.selectFrom('products').select(['sku', 'name', 'unit_price_cents']).where('sku', 'in', skus).execute();
    const catalog = new Map(products.map((p) => [p.sku, { name: p.name, unitPriceCents: p.unit_price_cents }]));

    const orders: Insertable<OrdersTable>[] = [];
    const items: Insertable<OrderItemsTable>[] = [];
    const keyRows: Insertable<Database['idempotency_keys']>[] = [];
    const outcomes = batch.map((p): Outcome => {
      const key = p.input.idempotencyKey;
      const previous = key ? seen.get(key) : undefined;
      if (previous) {
        if (previous.hash !== p.hash) {
          return {
            ok: false,
            error: new BuildflowError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body'),
          };
        }
        return { ok: true, created: false, value: { order: JSON.parse(previous.body) as OrderView, replayed: true } };
      }
      const priced = priceItems(p.input.items, catalog);
      if (priced.unknownSkus.length > 0) {
        return {
          ok: false,
          error: new BuildflowError('UNKNOWN_SKU', `unknown sku: ${priced.unknownSkus.join(', ')}`, { skus: priced.unknownSkus }),
        };
      }
      const order = {
        id: newOrderId(),
        reference: newOrderReference(),
        customer_id: null,
        status: 'pending' as const,
        cancel_reason: null,
        total_cents: priced.totalCents,
        item_count: priced.items.length,
        reservation_expires_at: null,
        created_at: now,
        updated_at: now,
      };
      const lines = priced.items.map((it, line_no) => ({
        order_id: order.id,
        line_no,
        sku: it.sku,
        name: it.name,
        quantity: it.quantity,
        unit_price_cents: it.unitPriceCents,
        line_total_cents: it.lineTotalCents,
      }));
      orders.push(order);
      items.push(...lines);
      const view = toOrderView(order, lines);
      if (key) {
        const body = JSON.stringify(view);
        seen.set(key, { hash: p.hash, body });
        keyRows.push({ scope: ORDER_IDEMPOTENCY_SCOPE, key, request_hash: p.hash, response_status: 201, response_body: body, created_at: now });
      }
      return { ok: true, created: true, value: { order: view, replayed: false } };
    });

    if (orders.length > 0) {
      await insertChunked(trx, 'orders', orders);
      await insertChunked(trx, 'order_items', items);
      await insertChunked(
        trx,
        'order_history',
        orders.map((o) => ({ order_id: o.id, from_status: null, to_status: 'pending' as const, reason: null, at: now })),
      );
      await insertChunked(
        trx,
        'outbox',
        orders.map((o) => ({ topic: 'reserve', order_id: o.id, payload: '{}', status: 'pending' as const, attempts: 0, available_at: now, created_at: now })),
      );
      await insertChunked(trx, 'idempotency_keys', keyRows);
    }
    return outcomes;
  }
}
