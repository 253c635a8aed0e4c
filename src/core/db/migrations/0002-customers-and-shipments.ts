import { sql, type Kysely } from 'kysely';
import { autoIdColumn } from './dialect-types.js';

/**
 * Customers and their sign-in tokens, order ownership, and shipment tracking: a shipment's
 * requested next status (so two identical concurrent updates are accepted once) and its history.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customers')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // Stored lower-cased, so the unique key is case-insensitive on every dialect.
    .addColumn('email', 'varchar(254)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0).check(sql`disabled in (0, 1)`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('customers_created_idx').on('customers').columns(['created_at', 'id']).execute();

  // Opaque bearer tokens, kept only as a keyed hash (HMAC-SHA-256): a copy of the table signs nobody in.
  await db.schema
    .createTable('auth_tokens')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('customer_id', 'varchar(36)', (c) => c.notNull().references('customers.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('auth_tokens_customer_idx').on('auth_tokens').columns(['customer_id']).execute();

  await db.schema.createIndex('orders_customer_idx').on('orders').columns(['customer_id', 'created_at']).execute();

  await db.schema
    .alterTable('shipments')
    .addColumn('requested_status', 'varchar(16)', (c) => c.check(sql`requested_status in ('shipped', 'delivered')`))
    .execute();

  await autoIdColumn(db, db.schema.createTable('shipment_history'))
    .addColumn('order_id', 'varchar(36)', (c) => c.notNull().references('shipments.order_id'))
    .addColumn('from_status', 'varchar(16)', (c) => c.notNull())
    .addColumn('to_status', 'varchar(16)', (c) => c.notNull().check(sql`to_status in ('shipped', 'delivered')`))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  // A shipment reaches each status once: a redelivered step cannot record it twice.
  await db.schema.createIndex('shipment_history_once_idx').on('shipment_history').columns(['order_id', 'to_status']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('shipment_history').execute();
  await db.schema.alterTable('shipments').dropColumn('requested_status').execute();
  await db.schema.dropIndex('orders_customer_idx').execute();
  await db.schema.dropTable('auth_tokens').execute();
  await db.schema.dropTable('customers').execute();
}
