import { BuildflowError } from '../errors.js';
import { canTransition, type OrderStatus } from '../domain/order-status.js';
import type { Db, OrdersTable } from '../db/schema.js';
import { inSet } from '../db/sets.js';
import type { UnitOfWork } from '../db/unit-of-work.js';

export interface TransitionOptions {
  reason?: string | null;
  /** Other order columns to change with the status. */
  patch?: Partial<Pick<OrdersTable, 'cancel_reason' | 'reservation_expires_at'>>;
}

/** A status change the state machine (domain/order-status.ts) does not have. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly from: OrderStatus,
    readonly to: OrderStatus,
  ) {
    super(`illegal order transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/**
 * The one way an order's status changes. Checks the pair against the state machine's table
 * (throws {@link IllegalTransitionError} before any SQL for a pair it lacks), then moves every
 * order of `orderIds` that is still in exactly `from` with one guarded statement
 * (`UPDATE … WHERE id IN … AND status = from`), so a redelivered or racing step changes nothing,
 * and records each moved order's history row in the unit of work. Returns the ids that moved.
 */
export async function transitionMany(
  uow: UnitOfWork,
  orderIds: readonly string[],
  from: OrderStatus,
  to: OrderStatus,
  options: TransitionOptions = {},
): Promise<string[]> {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  const ids = [...new Set(orderIds)];
  if (ids.length === 0) return [];
  const rows = await uow.trx
    .updateTable('orders')
    .set({ status: to, updated_at: uow.now, ...options.patch })
    .where(inSet(uow.trx, 'id', ids))
    .where('status', '=', from)
    .returning('id')
    .execute();
  const reason = options.reason ?? null;
  const moved = rows.map((r) => r.id);
  uow.add(
    'order_history',
    moved.map((id) => ({ order_id: id, from_status: from, to_status: to, reason, at: uow.now })),
  );
  for (const id of moved) uow.noteTransition({ orderId: id, from, to, reason });
  return moved;
}

/** {@link transitionMany} for one order; true when it moved. */
export async function transition(uow: UnitOfWork, orderId: string, from: OrderStatus, to: OrderStatus, options: TransitionOptions = {}): Promise<boolean> {
  return (await transitionMany(uow, [orderId], from, to, options)).length > 0;
}

/** Records the first status of a new order (no `from`): intake's history row. */
export function recordCreated(uow: UnitOfWork, orderId: string): void {
  uow.add('order_history', [{ order_id: orderId, from_status: null, to_status: 'pending', reason: null, at: uow.now }]);
  uow.noteTransition({ orderId, from: null, to: 'pending', reason: null });
}

/** Current statuses of some orders (missing orders are absent from the map). */
export async function currentStatuses(db: Db, orderIds: readonly string[]): Promise<Map<string, OrderStatus>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db.selectFrom('orders').select(['id', 'status']).where(inSet(db, 'id', orderIds)).execute();
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** Current status of an order, or undefined if there is no such order. */
export async function currentStatus(db: Db, orderId: string): Promise<OrderStatus | undefined> {
  const row = await db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirst();
  return row?.status;
}

/** Like {@link currentStatus} but an unknown order is an error. */
export async function requireStatus(db: Db, orderId: string): Promise<OrderStatus> {
  const status = await currentStatus(db, orderId);
  if (!status) throw new BuildflowError('ORDER_NOT_FOUND', `order ${orderId} not found`);
  return status;
}
