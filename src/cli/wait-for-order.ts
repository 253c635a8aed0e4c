import type { OrderStatus } from '../core/domain/order-status.js';
import type { OrderView } from '../core/orders/order-view.js';
import { CliError } from './cli-error.js';
import type { ApiClient } from './http-client.js';

// Where `--wait` stops: the pipeline has decided the order (shipping is driven from outside).
const FINAL: readonly OrderStatus[] = ['confirmed', 'shipped', 'delivered', 'cancelled'];
const POLL_MS = 100;

/**
 * Polls an order until the pipeline has settled it. Progress goes to stderr, and only when stderr
 * is a terminal. A timeout is reported as "unavailable": the pipeline is not keeping up.
 */
export async function waitForOrder(client: ApiClient, order: OrderView, timeoutMs: number): Promise<OrderView> {
  const deadline = Date.now() + timeoutMs;
  const progress = process.stderr.isTTY === true;
  let current = order;
  let shown = '';
  try {
    while (!FINAL.includes(current.status)) {
      if (progress && shown !== current.status) {
        process.stderr.write(`\r\x1b[2Kwaiting for ${current.reference}: ${current.status}…`);
        shown = current.status;
      }
      if (Date.now() >= deadline) {
        throw new CliError('WAIT_TIMEOUT', `order ${current.reference} is still ${current.status} after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
      current = await client.get<OrderView>(`/v1/orders/${encodeURIComponent(order.id)}`);
    }
  } finally {
    if (progress && shown) process.stderr.write('\r\x1b[2K');
  }
  return current;
}
