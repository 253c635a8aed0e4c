import { randomUUID } from 'node:crypto';
import type { Db } from '../outbox/outbox.js';
import { inSet } from '../db/sets.js';
import { getOrder } from '../orders/queries.js';
import type { EventDetail, NotificationKind } from '../domain/notification-kinds.js';
import { NOTIFIED_STATUSES, ORDER_EVENT_OF, PAYLOAD_VERSION, type WebhookEventType } from './events.js';

/** A new `webhook-id`. */
export function newMessageId(): string {
  return `msg_${randomUUID().replace(/-/g, '')}`;
}

/** An enabled endpoint with the events it subscribes to. */
export interface EnabledEndpoint {
  id: string;
  events: readonly string[];
  stock_low_threshold: number;
}

/** Every enabled endpoint, read once for a whole batch of events. */
export async function enabledEndpoints(trx: Db): Promise<EnabledEndpoint[]> {
  const rows = await trx.selectFrom('webhook_endpoints').select(['id', 'events', 'stock_low_threshold']).where('enabled', '=', 1).execute();
  return rows.map((r) => ({ id: r.id, events: JSON.parse(r.events) as string[], stock_low_threshold: r.stock_low_threshold }));
}

async function subscribers(trx: Db, type: WebhookEventType) {
  return subscribed(await enabledEndpoints(trx), type);
}

const subscribed = (endpoints: readonly EnabledEndpoint[], type: WebhookEventType) => endpoints.filter((ep) => ep.events.includes(type));

/**
 * Where an order event stands among the order's notified events (1 for the first), and when it
 * happened. A status event's place is read from the order's history, so the number follows the
 * order of the state changes even when their notifications are worked in another order; refunds
 * and returns (keyed notifications, written in the transaction of their change) count in by the
 * time they were written.
 */
async function eventPosition(trx: Db, orderId: string, kind: NotificationKind, now: number): Promise<{ sequence: number; at: number }> {
  const status = ORDER_EVENT_OF[kind].status;
  const [rows, keyed] = await Promise.all([
    trx.selectFrom('order_history').select(['to_status', 'at']).where('order_id', '=', orderId).where('to_status', 'in', NOTIFIED_STATUSES).orderBy('id').execute(),
    trx.selectFrom('notifications').select('created_at').where('order_id', '=', orderId).where('event_key', '<>', '').execute(),
  ]);
  const keyedBefore = (at: number) => keyed.filter((k) => k.created_at < at).length;
  if (status === undefined) return { sequence: rows.length + keyed.length, at: now };
  const index = rows.findIndex((r) => r.to_status === status);
  return index < 0 ? { sequence: rows.length + keyed.length + 1, at: now } : { sequence: index + 1 + keyedBefore(rows[index]!.at), at: rows[index]!.at };
}

/**
 * Writes, in the caller's transaction (the one that records the customer's notification), one
 * webhook delivery per enabled endpoint subscribed to this order event. The body is fixed here,
 * so every attempt and replay sends, and signs, the same bytes.
 *
 * Payload: `{ type, timestamp, data: { version, sequence, order, reason?, amountCents?, returnId? } }`;
 * `order` is the order's public view, `sequence` numbers the order's events from 1; a refund or
 * return event adds its amount and return id.
 */
export async function recordOrderEvent(
  trx: Db,
  e: { orderId: string; kind: NotificationKind; sourceMessageId: number | null; now: number; detail?: EventDetail },
  enabled: readonly EnabledEndpoint[],
): Promise<number> {
  const { type } = ORDER_EVENT_OF[e.kind];
  const endpoints = subscribed(enabled, type);
  if (endpoints.length === 0) return 0;
  const [order, position] = await Promise.all([getOrder(trx, e.orderId), eventPosition(trx, e.orderId, e.kind, e.now)]);
  const data: Record<string, unknown> = { version: PAYLOAD_VERSION, sequence: position.sequence, order };
  if (type === 'order.cancelled' && order.cancelReason) data.reason = order.cancelReason;
  if (e.detail) Object.assign(data, e.detail);
  const body = JSON.stringify({ type, timestamp: new Date(position.at).toISOString(), data });
  await trx
    .insertInto('webhook_deliveries')
    .values(
      endpoints.map((ep) => ({
        message_id: newMessageId(),
        endpoint_id: ep.id,
        event_type: type,
        order_id: e.orderId,
        sequence: position.sequence,
        source_message_id: e.sourceMessageId,
        body,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: e.now,
        created_at: e.now,
      })),
    )
    .execute();
  return endpoints.length;
}

/** A product's stock on hand before and after a change committed in the caller's transaction. */
export interface StockLevelChange {
  sku: string;
  onHandBefore: number;
  orderId?: string;
}

/**
 * Writes a `stock.low` delivery for every subscribed endpoint whose threshold a product's stock
 * on hand has just fallen to or below (crossed downwards, so a product sitting low does not fire
 * on every sale). Call it in the transaction that changed the stock.
 */
export async function recordStockLevels(trx: Db, changes: readonly StockLevelChange[], now: number, enabled?: readonly EnabledEndpoint[]): Promise<number> {
  if (changes.length === 0) return 0;
  const endpoints = enabled ? subscribed(enabled, 'stock.low') : await subscribers(trx, 'stock.low');
  if (endpoints.length === 0) return 0;
  const products = await trx
    .selectFrom('products')
    .select(['sku', 'name', 'on_hand', 'reserved'])
    .where('sku', 'in', changes.map((c) => c.sku))
    .execute();
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const rows = [];
  for (const change of changes) {
    const p = bySku.get(change.sku);
    if (!p) continue;
    for (const ep of endpoints) {
      const threshold = ep.stock_low_threshold;
      if (!(p.on_hand <= threshold && change.onHandBefore > threshold)) continue;
      const data: Record<string, unknown> = {
        version: PAYLOAD_VERSION,
        sku: p.sku,
        name: p.name,
        onHand: p.on_hand,
        reserved: p.reserved,
        available: p.on_hand - p.reserved,
        threshold,
      };
      if (change.orderId) data.orderId = change.orderId;
      rows.push({
        message_id: newMessageId(),
        endpoint_id: ep.id,
        event_type: 'stock.low',
        order_id: null,
        sequence: null,
        source_message_id: null,
        body: JSON.stringify({ type: 'stock.low', timestamp: new Date(now).toISOString(), data }),
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
      });
    }
  }
  if (rows.length > 0) await trx.insertInto('webhook_deliveries').values(rows).execute();
  return rows.length;
}

/**
 * {@link recordStockLevels} after a batch's sales: each line's quantity has just left the shelf.
 * Summed per product over the batch, so a crossing made by several orders together fires once,
 * naming the last of them that sold the product.
 */
export async function recordStockAfterSales(trx: Db, orderIds: readonly string[], now: number, enabled: readonly EnabledEndpoint[]): Promise<number> {
  if (orderIds.length === 0 || subscribed(enabled, 'stock.low').length === 0) return 0;
  const lines = await trx
    .selectFrom('order_items')
    .innerJoin('products', 'products.sku', 'order_items.sku')
    .select(['order_items.order_id', 'order_items.sku', 'products.on_hand', 'order_items.quantity'])
    .where(inSet(trx, 'order_items.order_id', orderIds))
    .execute();
  const rank = new Map(orderIds.map((id, i) => [id, i]));
  const bySku = new Map<string, { onHand: number; sold: number; orderId: string }>();
  for (const l of lines) {
    const s = bySku.get(l.sku) ?? { onHand: Number(l.on_hand), sold: 0, orderId: l.order_id };
    s.sold += Number(l.quantity);
    if (rank.get(l.order_id)! >= rank.get(s.orderId)!) s.orderId = l.order_id;
    bySku.set(l.sku, s);
  }
  return recordStockLevels(trx, [...bySku].map(([sku, s]) => ({ sku, onHandBefore: s.onHand + s.sold, orderId: s.orderId })), now, enabled);
}
