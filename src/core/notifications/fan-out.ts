import type { Db } from '../outbox/outbox.js';
import type { EventDetail, NotificationKind } from '../domain/notification-kinds.js';
import { recordOrderEmail } from '../mail/emails.js';
import { recordOrderEvent, type EnabledEndpoint } from '../webhooks/record-events.js';

/**
 * Everything a new notification sends: webhook deliveries to subscribed endpoints and, with SMTP,
 * the customer's email. Called in the transaction that wrote the notification row, so they exist
 * if and only if it does (and so if and only if the state change behind it committed).
 * Returns how many deliveries and emails it wrote.
 */
export async function fanOutNotification(
  trx: Db,
  n: { orderId: string; kind: NotificationKind; sourceMessageId: number | null; now: number; eventKey?: string; detail?: EventDetail },
  /** The deployment sends customer emails (SMTP is configured). */
  email: boolean,
  /** The enabled webhook endpoints, read once for the caller's batch (`enabledEndpoints`). */
  endpoints: readonly EnabledEndpoint[],
): Promise<number> {
  const deliveries = await recordOrderEvent(trx, n, endpoints);
  return deliveries + (email && (await recordOrderEmail(trx, n)) ? 1 : 0);
}
