export type NotificationKind = 'order_confirmed' | 'order_cancelled' | 'order_shipped' | 'order_delivered' | KeyedNotificationKind;

/** Events that may happen several times per order: each is told once per its own key (the refund's or the return's id). */
export type KeyedNotificationKind = 'order_refunded' | 'order_return_requested' | 'order_returned';

/** What a refund or return notification tells beyond the order. */
export interface EventDetail {
  /** The money refunded, or to be refunded once the return is received. */
  amountCents?: number;
  returnId?: string;
}

const money = (cents: number) => (cents / 100).toFixed(2);

/** The text a customer receives for each kind of notification. */
export function notificationText(kind: NotificationKind, reference: string, cancelReason: string | null, detail: EventDetail = {}): string {
  switch (kind) {
    case 'order_confirmed':
      return `Your order ${reference} is confirmed and will ship soon.`;
    case 'order_shipped':
      return `Your order ${reference} has shipped.`;
    case 'order_delivered':
      return `Your order ${reference} was delivered.`;
    case 'order_cancelled':
      return `Your order ${reference} was cancelled (${(cancelReason ?? 'unknown').replace(/_/g, ' ')}).`;
    case 'order_refunded':
      return `We refunded ${money(detail.amountCents ?? 0)} on your order ${reference}.`;
    case 'order_return_requested':
      return `We noted your return of items of order ${reference}; we refund them once they arrive.`;
    case 'order_returned':
      return `Your returned items of order ${reference} arrived; ${money(detail.amountCents ?? 0)} is being refunded.`;
    default:
      return `Update on your order ${reference}: ${String(kind)}.`;
  }
}
