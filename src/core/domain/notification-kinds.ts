export type NotificationKind = 'order_confirmed' | 'order_cancelled' | 'order_shipped' | 'order_delivered';

/** The text a customer receives for each kind of notification. */
export function notificationText(kind: NotificationKind, reference: string, cancelReason: string | null): string {
  switch (kind) {
    case 'order_confirmed':
      return `Your order ${reference} is confirmed and will ship soon.`;
    case 'order_shipped':
      return `Your order ${reference} has shipped.`;
    case 'order_delivered':
      return `Your order ${reference} was delivered.`;
    case 'order_cancelled':
      return `Your order ${reference} was cancelled (${(cancelReason ?? 'unknown').replace(/_/g, ' ')}).`;
    default:
      return `Update on your order ${reference}: ${String(kind)}.`;
  }
}
