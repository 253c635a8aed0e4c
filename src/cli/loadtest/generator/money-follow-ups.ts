import type { Pool } from 'undici';
import type { RequestOp } from './records.js';

// An order is confirmed within a second or two, longer while chaos kills workers; a follow-up
// whose order has not got there by then is not sent (nothing to check of it).
const WAIT_MS = 30_000;
const POLL_MS = 100;
// The share of a confirmed order's total the admin refunds: a concession, by amount.
const REFUND_PART = 0.3;

/** Sends one request of a follow-up as the admin, recorded like every other request of the run. */
export type AdminSend = (op: RequestOp, r: { path: string; body?: string; key?: string; orderId: string }) => Promise<{ status: number }>;

export interface FollowUpContext {
  pool: Pool;
  adminToken: string;
  send: AdminSend;
}

interface OrderState {
  status: string;
  totalCents: number;
}

/** Reads the order as the admin (not recorded: polling is the workload's own waiting, not load). */
async function readOrder(ctx: FollowUpContext, orderId: string): Promise<OrderState | undefined> {
  try {
    const res = await ctx.pool.request({ method: 'GET', path: `/v1/orders/${orderId}`, headers: { authorization: `Bearer ${ctx.adminToken}`, accept: 'application/json' } });
    const text = await res.body.text();
    return res.statusCode === 200 ? (JSON.parse(text) as OrderState) : undefined;
  } catch {
    return undefined; // a killed server: asked again at the next poll
  }
}

/** Polls until the order is in one of `wanted`; undefined once it ended elsewhere or the wait ran out. */
async function awaitStatus(ctx: FollowUpContext, orderId: string, wanted: readonly string[]): Promise<OrderState | undefined> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const order = await readOrder(ctx, orderId);
    if (order && wanted.includes(order.status)) return order;
    if (order && ['cancelled', 'shipped', 'delivered'].includes(order.status)) return undefined;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return undefined;
}

/** `--refund-share`: once the order is confirmed, the admin refunds part of its total, under a key of its own. */
export async function refundPart(ctx: FollowUpContext, orderId: string, key: string): Promise<void> {
  const order = await awaitStatus(ctx, orderId, ['confirmed']);
  if (!order) return;
  const amountCents = Math.max(1, Math.floor(order.totalCents * REFUND_PART));
  await ctx.send('refund', { path: `/v1/orders/${orderId}/refunds`, body: JSON.stringify({ amountCents, reason: 'loadtest concession' }), key: `${key}-refund`, orderId });
}

/** `--cancel-paid-share`: once payment has started (paid or confirmed), the admin cancels the order. */
export async function cancelPaid(ctx: FollowUpContext, orderId: string): Promise<void> {
  if (!(await awaitStatus(ctx, orderId, ['paid', 'confirmed']))) return;
  await ctx.send('cancel-paid', { path: `/v1/orders/${orderId}/cancel`, orderId });
}
