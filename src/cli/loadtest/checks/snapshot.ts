import type { LoadtestApi } from '../target/retry.js';
import { fetchAll } from '../target/api.js';
import type { ProductSnapshot } from '../target/setup.js';
import { ORDER_STATUSES, isSettled as isSettledStatus } from '../../../core/domain/order-status.js';

export interface OrderSnapshot {
  id: string;
  status: string;
  cancelReason?: string;
  items: { sku: string; quantity: number }[];
  totalCents: number;
  createdAt: string;
  updatedAt: string;
}

export interface PaymentSnapshot {
  orderId: string;
  status: string;
  amountCents: number;
}

export interface NotificationSnapshot {
  orderId: string;
  kind: string;
}

export interface StockDriftSnapshot {
  sku: string;
  onHand: number;
  reserved: number;
  ledgerOnHand: number;
  ledgerReserved: number;
}

/** The target's state as the admin reads it, after the load. */
export interface Snapshot {
  orders: Map<string, OrderSnapshot>;
  payments: PaymentSnapshot[];
  notifications: NotificationSnapshot[];
  products: ProductSnapshot[];
  drift: StockDriftSnapshot[];
}

export const FINAL_STATUSES: ReadonlySet<string> = new Set(ORDER_STATUSES.filter(isSettledStatus));

/** Reads orders, payments, notifications, products and stock drift through the admin API. */
export async function fetchSnapshot(admin: LoadtestApi): Promise<Snapshot> {
  const [orders, payments, notifications, products, drift] = await Promise.all([
    fetchAll<OrderSnapshot>(admin, '/v1/orders'),
    fetchAll<PaymentSnapshot>(admin, '/v1/admin/payments'),
    fetchAll<NotificationSnapshot>(admin, '/v1/notifications'),
    fetchAll<ProductSnapshot>(admin, '/v1/products'),
    admin.get<{ items: StockDriftSnapshot[] }>('/v1/admin/stock-drift'),
  ]);
  return { orders: new Map(orders.map((o) => [o.id, o])), payments, notifications, products, drift: drift.items };
}

/** The notification kind each final status owes the customer. */
export function expectedNotification(status: string): string | undefined {
  if (status === 'cancelled') return 'order_cancelled';
  if (status === 'confirmed' || status === 'shipped' || status === 'delivered') return 'order_confirmed';
  return undefined;
}

/** True when every accepted order is final and has been notified: the pipeline has nothing left to do for them. */
export function isSettled(snapshot: Snapshot, accepted: ReadonlySet<string>): boolean {
  const notified = new Set(snapshot.notifications.map((n) => `${n.orderId} ${n.kind}`));
  for (const id of accepted) {
    const order = snapshot.orders.get(id);
    if (!order || !FINAL_STATUSES.has(order.status)) return false;
    if (!notified.has(`${id} ${expectedNotification(order.status)}`)) return false;
  }
  return true;
}

/**
 * Polls the target until every accepted order is settled or `timeoutMs` has passed; returns the
 * last snapshot either way (the checks then say what is missing).
 */
export async function settle(admin: LoadtestApi, accepted: ReadonlySet<string>, timeoutMs: number): Promise<{ snapshot: Snapshot; settled: boolean; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const snapshot = await fetchSnapshot(admin);
    const settled = isSettled(snapshot, accepted);
    if (settled || Date.now() - started >= timeoutMs) return { snapshot, settled, waitedMs: Date.now() - started };
    await new Promise((r) => setTimeout(r, 250));
  }
}
