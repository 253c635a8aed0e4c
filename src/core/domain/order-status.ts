/** The order pipeline as a state machine (DESIGN.md, "The pipeline"). */
export const ORDER_STATUSES = ['pending', 'reserved', 'paid', 'confirmed', 'shipped', 'delivered', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const CANCEL_REASONS = [
  'out_of_stock',
  'payment_declined',
  'reservation_expired',
  'customer_cancelled',
  'failed',
] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** The only status changes there are; the transition function refuses every other pair. */
export const NEXT = {
  pending: ['reserved', 'cancelled'],
  reserved: ['paid', 'cancelled'],
  paid: ['confirmed', 'cancelled'],
  confirmed: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
} as const satisfies Record<OrderStatus, readonly OrderStatus[]>;

/** The statuses an order in `F` may move to, as a type: an illegal literal transition does not compile. */
export type NextStatus<F extends OrderStatus> = (typeof NEXT)[F][number];

/** True when the pipeline allows moving an order from `from` to `to`. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return (NEXT[from] as readonly OrderStatus[]).includes(to);
}

/**
 * Statuses in which the pipeline still owes the order work. An order outside these is settled
 * as far as the pipeline is concerned (shipping is driven from outside).
 */
export const IN_PROGRESS_STATUSES: readonly OrderStatus[] = ['pending', 'reserved', 'paid'];

/** Statuses in which stock is held as a reservation (released on cancel, sold on confirm). */
export const HOLDS_RESERVATION: readonly OrderStatus[] = ['reserved', 'paid'];

/** Before payment has started (a reservation that expires is cancelled only then). */
export const CUSTOMER_CANCELLABLE: readonly OrderStatus[] = ['pending', 'reserved'];

/** The admin may cancel any order that has not shipped. */
export const ADMIN_CANCELLABLE: readonly OrderStatus[] = ['pending', 'reserved', 'paid', 'confirmed'];

/** The statuses from which a customer may cancel, when the shop lets them until `until` (exclusive). */
export function customerCancellable(until: 'reserved' | 'paid' | 'confirmed' | 'shipped'): readonly OrderStatus[] {
  return ADMIN_CANCELLABLE.slice(0, ADMIN_CANCELLABLE.indexOf(until as OrderStatus) === -1 ? ADMIN_CANCELLABLE.length : ADMIN_CANCELLABLE.indexOf(until as OrderStatus));
}

/** True for `confirmed` and later, or `cancelled`: the outcome of the order is decided. */
export function isSettled(status: OrderStatus): boolean {
  return !IN_PROGRESS_STATUSES.includes(status);
}
