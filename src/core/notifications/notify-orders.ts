import { inSet, insertRows } from '../db/sets.js';
import type { UnitOfWork } from '../db/unit-of-work.js';
import { notificationText, type EventDetail, type KeyedNotificationKind, type NotificationKind } from '../domain/notification-kinds.js';
import { enabledEndpoints, type EnabledEndpoint } from '../webhooks/record-events.js';
import { fanOutNotification } from './fan-out.js';

/**
 * Writes the customer's notification of `kind` for each order, in the unit of work of the
 * transition that causes it, with everything it sends: a webhook delivery per subscribed endpoint
 * and, where the deployment sends email, the email. They commit with the transition or not at all,
 * so a notification is never lost nor sent for a change that rolled back, and an order's events
 * exist in the order of its transitions. One notification per order and kind (a unique key, with an
 * empty event key): a second try inserts nothing and so sends nothing twice.
 */
export async function notifyOrders(uow: UnitOfWork, orderIds: readonly string[], kind: NotificationKind, source: { messageId?: number } = {}): Promise<number> {
  const ids = [...new Set(orderIds)];
  if (ids.length === 0) return 0;
  const trx = uow.trx;
  const orders = await trx.selectFrom('orders').select(['id', 'reference', 'cancel_reason']).where(inSet(trx, 'id', ids)).execute();
  const rows = orders.map((o) => ({ order_id: o.id, kind, message: notificationText(kind, o.reference, o.cancel_reason), created_at: uow.now }));
  const inserted = await insertRows(trx, 'notifications', rows, { ignoreConflicts: true, returning: ['order_id'] });
  if (inserted.length === 0) return 0;
  const endpoints = await webhookEndpoints(uow);
  for (const row of inserted) {
    uow.noteDeliveries(await fanOutNotification(trx, { orderId: String(row.order_id), kind, sourceMessageId: source.messageId ?? null, now: uow.now }, uow.sendsEmail, endpoints));
  }
  return inserted.length;
}

/** A refund or return to tell the customer of: its own event, however many the order has. */
export interface KeyedOrderEvent {
  orderId: string;
  kind: KeyedNotificationKind;
  /** Names this refund or return (`refund:<ledger id>`, `return:<return id>`): the event is written once per key. */
  eventKey: string;
  detail: EventDetail;
}

/**
 * {@link notifyOrders} for events that happen several times per order (refunds, returns): one
 * notification, webhook delivery per subscribed endpoint and email per event key, in the unit of
 * work of the change, so a second refund is told as its own event and a retried one not twice.
 */
export async function notifyOrderEvents(uow: UnitOfWork, events: readonly KeyedOrderEvent[], source: { messageId?: number } = {}): Promise<number> {
  if (events.length === 0) return 0;
  const trx = uow.trx;
  const orders = await trx.selectFrom('orders').select(['id', 'reference']).where(inSet(trx, 'id', [...new Set(events.map((e) => e.orderId))])).execute();
  const reference = new Map(orders.map((o) => [o.id, o.reference]));
  const rows = events.map((e) => ({
    order_id: e.orderId,
    kind: e.kind,
    event_key: e.eventKey,
    message: notificationText(e.kind, reference.get(e.orderId) ?? e.orderId, null, e.detail),
    created_at: uow.now,
  }));
  const inserted = await insertRows(trx, 'notifications', rows, { ignoreConflicts: true, returning: ['order_id', 'kind', 'event_key'] });
  if (inserted.length === 0) return 0;
  const endpoints = await webhookEndpoints(uow);
  for (const row of inserted) {
    const e = events.find((x) => x.orderId === row.order_id && x.kind === row.kind && x.eventKey === row.event_key)!;
    uow.noteDeliveries(await fanOutNotification(trx, { orderId: e.orderId, kind: e.kind, eventKey: e.eventKey, detail: e.detail, sourceMessageId: source.messageId ?? null, now: uow.now }, uow.sendsEmail, endpoints));
  }
  return inserted.length;
}

const endpointsOfUnit = new WeakMap<UnitOfWork, Promise<EnabledEndpoint[]>>();

/**
 * The enabled webhook endpoints, read once per unit of work however many events it records (a
 * batch notifies many orders, and a confirm also checks stock alerts).
 */
export function webhookEndpoints(uow: UnitOfWork): Promise<EnabledEndpoint[]> {
  let endpoints = endpointsOfUnit.get(uow);
  if (!endpoints) endpointsOfUnit.set(uow, (endpoints = enabledEndpoints(uow.trx)));
  return endpoints;
}
