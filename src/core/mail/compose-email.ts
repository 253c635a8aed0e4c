import type { OrderView } from '../orders/order-view.js';
import { notificationText, type EventDetail, type NotificationKind } from '../domain/notification-kinds.js';

/** One customer email, in plain text and HTML. */
export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
}

const REASON_WORDS: Record<string, string> = {
  out_of_stock: 'an item in it is out of stock',
  payment_declined: 'the payment was declined',
  reservation_expired: 'the payment did not arrive in time, so the reserved items were released',
  customer_cancelled: 'you cancelled it',
  failed: 'we could not process it',
};

function money(cents: number): string {
  return (cents / 100).toFixed(2);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What the email says, paragraph by paragraph, with the item lines for a confirmation. */
function content(kind: NotificationKind, order: OrderView, detail: EventDetail): { subject: string; paragraphs: string[]; items: boolean } {
  const ref = order.reference;
  switch (kind) {
    case 'order_confirmed':
      return { subject: `Order ${ref} confirmed`, paragraphs: [`Your order ${ref} is confirmed and will ship soon.`, `Total: ${money(order.totalCents)}`], items: true };
    case 'order_cancelled': {
      const reason = REASON_WORDS[order.cancelReason ?? ''] ?? (order.cancelReason ?? 'unknown').replace(/_/g, ' ');
      return { subject: `Order ${ref} cancelled`, paragraphs: [`Your order ${ref} was cancelled: ${reason}.`, 'If a payment was taken for it, it is refunded.'], items: false };
    }
    case 'order_shipped':
      return {
        subject: `Order ${ref} shipped`,
        paragraphs: [`Your order ${ref} has shipped.`, `Tracking code: ${order.trackingCode ?? 'not available yet'}`],
        items: false,
      };
    case 'order_delivered':
      return { subject: `Order ${ref} delivered`, paragraphs: [`Your order ${ref} was delivered. Thank you for shopping with us.`], items: false };
    case 'order_refunded':
      return { subject: `Refund on order ${ref}`, paragraphs: [notificationText(kind, ref, null, detail), 'It reaches your account as your bank books it.'], items: false };
    case 'order_return_requested':
      return { subject: `Return of order ${ref} noted`, paragraphs: [notificationText(kind, ref, null, detail), 'Please send the items back within the return window.'], items: false };
    case 'order_returned':
      return { subject: `Return of order ${ref} received`, paragraphs: [notificationText(kind, ref, null, detail)], items: false };
  }
}

/** The email a customer gets for a notification about their order. */
export function composeOrderEmail(kind: NotificationKind, order: OrderView, customerName: string, detail: EventDetail = {}): ComposedEmail {
  const c = content(kind, order, detail);
  const greeting = `Hello ${customerName},`;
  const lines = c.items ? order.items.map((i) => `${i.quantity} × ${i.name} (${i.sku})  ${money(i.lineTotalCents)}`) : [];
  const text = [greeting, '', c.paragraphs[0]!, ...(lines.length > 0 ? ['', ...lines] : []), ...c.paragraphs.slice(1).flatMap((p) => ['', p]), ''].join('\n');
  const html = [
    `<p>${escapeHtml(greeting)}</p>`,
    `<p>${escapeHtml(c.paragraphs[0]!)}</p>`,
    ...(lines.length > 0 ? [`<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`] : []),
    ...c.paragraphs.slice(1).map((p) => `<p>${escapeHtml(p)}</p>`),
  ].join('\n');
  return { subject: c.subject, text, html };
}
