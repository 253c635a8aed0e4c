import type { NotificationKind } from '../domain/notification-kinds.js';
import type { OrderStatus } from '../domain/order-status.js';

/** Every event an endpoint can subscribe to. */
export const WEBHOOK_EVENTS = [
  'order.confirmed',
  'order.cancelled',
  'order.shipped',
  'order.delivered',
  'order.refunded',
  'order.return_requested',
  'order.returned',
  'stock.low',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Version of the payload's `data`; a change that is not purely additive gets a new number. */
export const PAYLOAD_VERSION = 1;

/** Each notification's event: a status change's names its status; a refund's or a return's has none (it may happen several times). */
export const ORDER_EVENT_OF: Record<NotificationKind, { type: WebhookEventType; status?: OrderStatus }> = {
  order_confirmed: { type: 'order.confirmed', status: 'confirmed' },
  order_cancelled: { type: 'order.cancelled', status: 'cancelled' },
  order_shipped: { type: 'order.shipped', status: 'shipped' },
  order_delivered: { type: 'order.delivered', status: 'delivered' },
  order_refunded: { type: 'order.refunded' },
  order_return_requested: { type: 'order.return_requested' },
  order_returned: { type: 'order.returned' },
};

/** The statuses a customer (and a webhook) hears about; an order's sequence numbers count these. */
export const NOTIFIED_STATUSES: readonly OrderStatus[] = ['confirmed', 'cancelled', 'shipped', 'delivered'];

export function isWebhookEvent(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value);
}
