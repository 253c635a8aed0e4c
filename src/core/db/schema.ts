import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { CancelReason, OrderStatus } from '../domain/order-status.js';

/** Times are integer milliseconds since the epoch in every table: portable across dialects and cheap to compare. */
type Millis = number;

export interface ProductsTable {
  sku: string;
  name: string;
  category: string;
  unit_price_cents: number;
  on_hand: number;
  reserved: number;
  created_at: Millis;
  updated_at: Millis;
}

export interface OrdersTable {
  id: string;
  reference: string;
  // Owner; null for an order the admin placed on behalf of no customer.
  customer_id: string | null;
  status: OrderStatus;
  cancel_reason: CancelReason | null;
  total_cents: number;
  item_count: number;
  reservation_expires_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface OrderItemsTable {
  order_id: string;
  line_no: number;
  sku: string;
  name: string;
  quantity: number;
  unit_price_cents: number;
  line_total_cents: number;
}

export interface OrderHistoryTable {
  id: Generated<number>;
  order_id: string;
  from_status: OrderStatus | null;
  to_status: OrderStatus;
  reason: string | null;
  at: Millis;
}

export type MovementKind = 'adjust' | 'reserve' | 'release' | 'sale' | 'restock' | 'return';

export interface StockMovementsTable {
  id: Generated<number>;
  sku: string;
  order_id: string | null;
  kind: MovementKind;
  on_hand_delta: number;
  reserved_delta: number;
  reason: string | null;
  at: Millis;
}

/** The order's payment as a whole: asked, authorized, captured (partly refunded or not), declined, voided, refunded in full. */
export type PaymentStatus = 'pending' | 'authorized' | 'captured' | 'declined' | 'voided' | 'refunded';

export type LedgerKind = 'authorization' | 'capture' | 'void' | 'refund';
export type LedgerStatus = 'pending' | 'succeeded' | 'failed';

/** One movement of money asked of the provider: written `pending` before the call, settled after it. */
export interface PaymentLedgerTable {
  id: Generated<number>;
  order_id: string;
  kind: LedgerKind;
  amount_cents: number;
  status: LedgerStatus;
  provider_ref: string | null;
  /** The key the provider call carries; a retried call reuses it. */
  idempotency_key: string;
  reason: string | null;
  return_id: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface PaymentsTable {
  order_id: string;
  idempotency_key: string;
  amount_cents: number;
  status: PaymentStatus;
  provider_ref: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface NotificationsTable {
  id: Generated<number>;
  order_id: string;
  kind: string;
  /** Tells apart events of one kind that happen several times per order (a refund's or return's id); '' for status events. */
  event_key: ColumnType<string, string | undefined, string>;
  message: string;
  created_at: Millis;
}

export type ReturnStatus = 'requested' | 'received';

export interface ReturnsTable {
  id: string;
  order_id: string;
  status: ReturnStatus;
  reason: string;
  requested_by: 'customer' | 'admin';
  /** The client's Idempotency-Key, if it sent one. */
  request_key: string | null;
  /** The received lines' price, refunded when the return was received. */
  refund_cents: number | null;
  created_at: Millis;
  received_at: Millis | null;
}

export interface ReturnLinesTable {
  id: Generated<number>;
  return_id: string;
  sku: string;
  /** Asked to be returned. */
  quantity: number;
  /** The price paid per unit (the order line's). */
  unit_price_cents: number;
  /** Arrived, once received. */
  received_quantity: number | null;
  restock: number | null;
}

export interface ShipmentsTable {
  order_id: string;
  tracking_code: string;
  status: ShipmentStatus;
  /** The next status an accepted update asked for, until a worker applies it. */
  requested_status: Exclude<ShipmentStatus, 'pending'> | null;
  created_at: Millis;
  updated_at: Millis;
}

export type ShipmentStatus = 'pending' | 'shipped' | 'delivered';

export interface ShipmentHistoryTable {
  id: Generated<number>;
  order_id: string;
  from_status: ShipmentStatus;
  to_status: Exclude<ShipmentStatus, 'pending'>;
  at: Millis;
}

export interface CustomersTable {
  id: string;
  /** Lower-cased. */
  email: string;
  name: string;
  password_hash: string;
  disabled: number;
  created_at: Millis;
}

export interface AuthTokensTable {
  /** HMAC-SHA-256 of the token under the token secret, hex; the token itself is never stored. */
  token_hash: string;
  customer_id: string;
  created_at: Millis;
  expires_at: Millis;
  revoked_at: Millis | null;
}

export type OutboxStatus = 'pending' | 'done' | 'dead' | 'discarded';

export interface OutboxTable {
  id: Generated<number>;
  topic: string;
  order_id: string;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  available_at: Millis;
  locked_until: Millis | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: Millis;
  processed_at: Millis | null;
  /** Scale-out only: when a relay last handed the row to Redis. */
  published_at: Generated<Millis | null>;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: string;
  created_at: Millis;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string;
  /** JSON array of event types. */
  events: string;
  stock_low_threshold: number;
  enabled: number;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Millis | null;
  failing_since: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'dead';

/** The columns of a delivery queue (migrations/delivery-queue.ts): claimed by one worker at a time, retried until done or dead. */
interface DeliveryQueueColumns<Status extends string> {
  status: Status;
  attempts: number;
  next_attempt_at: Millis;
  locked_until: Millis | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: Millis;
}

export interface WebhookDeliveriesTable extends DeliveryQueueColumns<WebhookDeliveryStatus> {
  id: Generated<number>;
  message_id: string;
  endpoint_id: string;
  event_type: string;
  order_id: string | null;
  sequence: number | null;
  source_message_id: number | null;
  body: string;
  /** Attempts in the current round (a replay starts a new round). */
  attempts: number;
  finished_at: Millis | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  started_at: Millis;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response: string | null;
}

export type EmailStatus = 'pending' | 'sent' | 'dead';

export interface EmailMessagesTable extends DeliveryQueueColumns<EmailStatus> {
  id: Generated<number>;
  order_id: string;
  kind: string;
  event_key: ColumnType<string, string | undefined, string>;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  message_id: string;
  sent_at: Millis | null;
}

/** SQLite only: named counters (Postgres uses sequences). */
export interface CountersTable {
  name: string;
  value: number;
}

/**
 * Running totals kept by database triggers (migration 0006); a figure is the sum of its rows over
 * `slot` (one slot per Postgres backend, slot 0 on SQLite and for folded slots).
 */
export interface StatsCountersTable {
  name: string;
  slot: number;
  value: number;
}

/** A pipeline step an operator paused (`buildflow pipeline pause`): orders wait at it until resumed. */
/** A token bucket shared by a deployment's workers (migration 0014). */
export interface RateLimitsTable {
  name: string;
  milli_tokens: number;
  updated_at: Millis;
  last_granted: Generated<number>;
}

export interface PipelinePausesTable {
  step: string;
  reason: string | null;
  paused_at: Millis;
}

/** One registered worker process and its last heartbeat. */
export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  /** Comma-separated: steps, relay, sweeper. */
  roles: string;
  transport: string;
  concurrency: number;
  /** How often it promised to heartbeat; three missed make it gone. */
  heartbeat_ms: number;
  started_at: Millis;
  last_seen_at: Millis;
  /** Messages its steps handled, as of its last heartbeat. */
  handled: number;
}

/** The whole schema, as kysely sees it. */
export interface Database {
  products: ProductsTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
  order_history: OrderHistoryTable;
  stock_movements: StockMovementsTable;
  payments: PaymentsTable;
  payment_ledger: PaymentLedgerTable;
  returns: ReturnsTable;
  return_lines: ReturnLinesTable;
  notifications: NotificationsTable;
  shipments: ShipmentsTable;
  shipment_history: ShipmentHistoryTable;
  customers: CustomersTable;
  auth_tokens: AuthTokensTable;
  outbox: OutboxTable;
  idempotency_keys: IdempotencyKeysTable;
  counters: CountersTable;
  stats_counters: StatsCountersTable;
  workers: WorkersTable;
  pipeline_pauses: PipelinePausesTable;
  rate_limits: RateLimitsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  email_messages: EmailMessagesTable;
}

export type ProductRow = Selectable<ProductsTable>;
export type OrderRow = Selectable<OrdersTable>;
export type OrderItemRow = Selectable<OrderItemsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewOutbox = Insertable<OutboxTable>;

/** A connection or a transaction: what a query helper runs on. */
export type Db = Kysely<Database> | Transaction<Database>;
