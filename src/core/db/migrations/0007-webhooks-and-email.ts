import { sql, type Kysely } from 'kysely';
import { autoIdColumn } from './dialect-types.js';
import { createDueIndex, deliveryQueueColumns } from './delivery-queue.js';

/**
 * Webhook endpoints, their deliveries (one row per event and endpoint, itself a queue that
 * delivery workers claim), every attempt made, and the customer emails sent over SMTP. Deliveries
 * and emails are written in the transaction of the notification that causes them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('description', 'varchar(500)', (c) => c.notNull())
    // JSON array of event types.
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('stock_low_threshold', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().check(sql`enabled in (0, 1)`))
    .addColumn('disabled_reason', 'varchar(200)')
    .addColumn('secret', 'varchar(100)', (c) => c.notNull())
    .addColumn('previous_secret', 'varchar(100)')
    .addColumn('previous_secret_expires_at', 'bigint')
    // First failure since the last success; an endpoint failing for too long is disabled.
    .addColumn('failing_since', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_endpoints_created_idx').on('webhook_endpoints').columns(['created_at', 'id']).execute();

  await deliveryQueueColumns(
    autoIdColumn(db, db.schema.createTable('webhook_deliveries'))
      // The Standard Webhooks `webhook-id`: the same for every attempt and replay of this delivery.
      .addColumn('message_id', 'varchar(40)', (c) => c.notNull().unique())
      .addColumn('endpoint_id', 'varchar(40)', (c) => c.notNull().references('webhook_endpoints.id'))
      .addColumn('event_type', 'varchar(40)', (c) => c.notNull())
      .addColumn('order_id', 'varchar(36)')
      .addColumn('sequence', 'integer')
      // The pipeline message whose notification created this delivery (ordering: see deliveries.ts).
      .addColumn('source_message_id', 'bigint')
      .addColumn('body', 'text', (c) => c.notNull()),
    ['pending', 'delivered', 'dead'],
  )
    .addColumn('finished_at', 'bigint')
    .execute();
  await createDueIndex(db, 'webhook_deliveries_due_idx', 'webhook_deliveries');
  await db.schema.createIndex('webhook_deliveries_endpoint_idx').on('webhook_deliveries').columns(['endpoint_id', 'id']).execute();
  await db.schema.createIndex('webhook_deliveries_order_idx').on('webhook_deliveries').columns(['endpoint_id', 'order_id', 'sequence']).execute();

  await autoIdColumn(db, db.schema.createTable('webhook_attempts'))
    .addColumn('delivery_id', 'bigint', (c) => c.notNull().references('webhook_deliveries.id'))
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'varchar(1000)')
    .addColumn('response', 'varchar(1024)')
    .execute();
  await db.schema.createIndex('webhook_attempts_delivery_idx').on('webhook_attempts').columns(['delivery_id', 'id']).execute();

  await deliveryQueueColumns(
    autoIdColumn(db, db.schema.createTable('email_messages'))
      .addColumn('order_id', 'varchar(36)', (c) => c.notNull().references('orders.id'))
      .addColumn('kind', 'varchar(32)', (c) => c.notNull())
      .addColumn('recipient', 'varchar(254)', (c) => c.notNull())
      .addColumn('subject', 'varchar(300)', (c) => c.notNull())
      .addColumn('text_body', 'text', (c) => c.notNull())
      .addColumn('html_body', 'text', (c) => c.notNull())
      // The RFC 5322 Message-ID, the same on every attempt, so a resend after a crash can be recognised.
      .addColumn('message_id', 'varchar(200)', (c) => c.notNull()),
    ['pending', 'sent', 'dead'],
  )
    .addColumn('sent_at', 'bigint')
    .addUniqueConstraint('email_messages_once_per_kind', ['order_id', 'kind'])
    .execute();
  await createDueIndex(db, 'email_messages_due_idx', 'email_messages');
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['email_messages', 'webhook_attempts', 'webhook_deliveries', 'webhook_endpoints']) {
    await db.schema.dropTable(table).execute();
  }
}
