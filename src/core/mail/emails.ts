import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, EmailMessagesTable } from '../db/schema.js';
import type { Db } from '../outbox/outbox.js';
import { getOrder } from '../orders/queries.js';
import type { EventDetail, NotificationKind } from '../domain/notification-kinds.js';
import { jittered } from '../webhooks/retry-schedule.js';
import { composeOrderEmail } from './compose-email.js';
import { DEFAULTS } from '../defaults.js';

export type EmailRow = Selectable<EmailMessagesTable>;

/**
 * Writes the customer's email for a notification, in the caller's transaction (the one that
 * records the notification); once per order, kind and event key. Orders with no customer (placed by the
 * admin) get none.
 */
export async function recordOrderEmail(trx: Db, e: { orderId: string; kind: NotificationKind; now: number; eventKey?: string; detail?: EventDetail }): Promise<boolean> {
  const owner = await trx
    .selectFrom('orders')
    .innerJoin('customers', 'customers.id', 'orders.customer_id')
    .select(['customers.email', 'customers.name'])
    .where('orders.id', '=', e.orderId)
    .executeTakeFirst();
  if (!owner) return false;
  const order = await getOrder(trx, e.orderId);
  const mail = composeOrderEmail(e.kind, order, owner.name, e.detail);
  const res = await trx
    .insertInto('email_messages')
    .values({
      order_id: e.orderId,
      kind: e.kind,
      event_key: e.eventKey ?? '',
      recipient: owner.email,
      subject: mail.subject,
      text_body: mail.text,
      html_body: mail.html,
      message_id: `<${e.kind}.${e.orderId}.${randomUUID().slice(0, 8)}@buildflow>`,
      status: 'pending',
      attempts: 0,
      next_attempt_at: e.now,
      created_at: e.now,
    })
    .onConflict((oc) => oc.columns(['order_id', 'kind', 'event_key']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** What one SMTP attempt came to. */
export type SendOutcome = { ok: true } | { ok: false; error: string; permanent: boolean };

/**
 * Records a send attempt. An email is never given up for a server that is down or says "try
 * later": it is retried on the schedule, then at the schedule's last interval for as long as it
 * takes. Only a permanent refusal (SMTP 5xx) makes it dead.
 */
export async function recordSend(db: Kysely<Database>, m: EmailRow, o: SendOutcome, schedule: readonly number[], now = Date.now()): Promise<'sent' | 'dead' | 'pending'> {
  if (o.ok) {
    await db.updateTable('email_messages').set({ status: 'sent', sent_at: now, locked_until: null, locked_by: null, last_error: null }).where('id', '=', m.id).where('status', '=', 'pending').execute();
    return 'sent';
  }
  if (o.permanent) {
    await db.updateTable('email_messages').set({ status: 'dead', locked_until: null, locked_by: null, last_error: o.error.slice(0, DEFAULTS.deliveries.errorExcerptChars) }).where('id', '=', m.id).where('status', '=', 'pending').execute();
    return 'dead';
  }
  const delay = jittered(schedule[Math.min(m.attempts, schedule.length - 1)] ?? 60_000);
  await db
    .updateTable('email_messages')
    .set({ next_attempt_at: now + Math.max(delay, 50), locked_until: null, locked_by: null, last_error: o.error.slice(0, DEFAULTS.deliveries.errorExcerptChars) })
    .where('id', '=', m.id)
    .where('status', '=', 'pending')
    .execute();
  return 'pending';
}
