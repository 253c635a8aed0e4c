import type { Kysely } from 'kysely';
import type { Database, Db, WebhookDeliveryStatus } from '../db/schema.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { pageByKey } from '../keyset-page.js';
import type { Page } from '../pagination.js';
import type { DeliveryRow } from './deliveries.js';

/** One HTTP attempt of a delivery. */
export interface AttemptView {
  at: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
  /** The first KiB of the answer's body. */
  response?: string;
}

/** A delivery of one event to one endpoint, with every attempt made. */
export interface DeliveryView {
  /** The `webhook-id` header: the same on every attempt and replay. */
  id: string;
  endpointId: string;
  eventType: string;
  orderId?: string;
  /** The order's reference (`BF-…`), when the delivery is about an order. */
  orderReference?: string;
  sequence?: number;
  status: WebhookDeliveryStatus;
  /** Attempts since it was created or last replayed. */
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  createdAt: string;
  finishedAt?: string;
  /** The body sent, parsed. */
  payload: unknown;
  log: AttemptView[];
}

async function toViews(db: Kysely<Database>, rows: readonly DeliveryRow[]): Promise<DeliveryView[]> {
  if (rows.length === 0) return [];
  const attempts = await db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('delivery_id', 'in', rows.map((r) => r.id))
    .orderBy('id')
    .execute();
  const orderIds = [...new Set(rows.flatMap((r) => (r.order_id === null ? [] : [r.order_id])))];
  const references = new Map(
    orderIds.length === 0 ? [] : (await db.selectFrom('orders').select(['id', 'reference']).where('id', 'in', orderIds).execute()).map((o) => [o.id, o.reference] as const),
  );
  const byDelivery = new Map<number, AttemptView[]>();
  for (const a of attempts) {
    const view: AttemptView = { at: new Date(a.started_at).toISOString(), durationMs: a.duration_ms };
    if (a.status_code !== null) view.statusCode = a.status_code;
    if (a.error !== null) view.error = a.error;
    if (a.response !== null) view.response = a.response;
    const list = byDelivery.get(a.delivery_id) ?? [];
    list.push(view);
    byDelivery.set(a.delivery_id, list);
  }
  return rows.map((r) => {
    const view: DeliveryView = {
      id: r.message_id,
      endpointId: r.endpoint_id,
      eventType: r.event_type,
      status: r.status,
      attempts: r.attempts,
      createdAt: new Date(r.created_at).toISOString(),
      payload: JSON.parse(r.body) as unknown,
      log: byDelivery.get(r.id) ?? [],
    };
    if (r.order_id !== null) view.orderId = r.order_id;
    const reference = r.order_id === null ? undefined : references.get(r.order_id);
    if (reference !== undefined) view.orderReference = reference;
    if (r.sequence !== null) view.sequence = r.sequence;
    if (r.status === 'pending') view.nextAttemptAt = new Date(r.next_attempt_at).toISOString();
    if (r.last_error !== null) view.lastError = r.last_error;
    if (r.finished_at !== null) view.finishedAt = new Date(r.finished_at).toISOString();
    return view;
  });
}

/**
 * A replay is refused while the endpoint is disabled: its deliveries would only be marked dead
 * again (or wait, unseen, for `enable`). Enable it first.
 * @throws BuildflowError WEBHOOK_NOT_FOUND or WEBHOOK_ENDPOINT_DISABLED
 */
async function requireEnabledEndpoint(db: Db, endpointId: string): Promise<void> {
  const found = await db.selectFrom('webhook_endpoints').select(['enabled', 'disabled_reason']).where('id', '=', endpointId).executeTakeFirst();
  if (!found) throw new BuildflowError('WEBHOOK_NOT_FOUND', `no webhook endpoint ${endpointId}`);
  if (found.enabled !== 1) {
    throw new BuildflowError(
      'WEBHOOK_ENDPOINT_DISABLED',
      `webhook endpoint ${endpointId} is disabled (${found.disabled_reason ?? 'disabled'}): enable it first (buildflow webhook enable ${endpointId}), then replay`,
    );
  }
}

async function requireEndpoint(db: Kysely<Database>, endpointId: string): Promise<void> {
  const found = await db.selectFrom('webhook_endpoints').select('id').where('id', '=', endpointId).executeTakeFirst();
  if (!found) throw new BuildflowError('WEBHOOK_NOT_FOUND', `no webhook endpoint ${endpointId}`);
}

export interface ListDeliveriesQuery {
  status?: WebhookDeliveryStatus;
  limit?: number;
  cursor?: string;
}

/** An endpoint's deliveries, newest first, each with its attempts. */
export async function listDeliveries(db: Kysely<Database>, endpointId: string, q: ListDeliveriesQuery = {}): Promise<Page<DeliveryView>> {
  await requireEndpoint(db, endpointId);
  let query = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (q.status) query = query.where('status', '=', q.status);
  return pageByKey(query, q, { column: 'id', type: 'number', order: 'desc', of: (r) => r.id }, (rows) => toViews(db, rows));
}

/** One delivery by its `webhook-id`. */
export async function getDelivery(db: Kysely<Database>, endpointId: string, messageId: string): Promise<DeliveryView> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).where('message_id', '=', messageId).executeTakeFirst();
  if (!row) throw new BuildflowError('WEBHOOK_DELIVERY_NOT_FOUND', `no delivery ${messageId} for webhook endpoint ${endpointId}`);
  return (await toViews(db, [row]))[0]!;
}

const REPLAY = { status: 'pending' as const, attempts: 0, locked_until: null, locked_by: null, finished_at: null };

/**
 * Sends a delivery again with a fresh round of attempts, under the same `webhook-id` (a receiver
 * that had it already can tell), durably. Its order's later events wait for it again. Refused
 * while the endpoint is disabled.
 */
export async function replayDelivery(units: UnitRunner, endpointId: string, messageId: string): Promise<DeliveryView> {
  const replayed = await units.run(
    async (uow) => {
      await requireEnabledEndpoint(uow.trx, endpointId);
      const row = await uow.trx.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).where('message_id', '=', messageId).executeTakeFirst();
      if (!row) throw new BuildflowError('WEBHOOK_DELIVERY_NOT_FOUND', `no delivery ${messageId} for webhook endpoint ${endpointId}`);
      const replay = { ...REPLAY, next_attempt_at: uow.now };
      await uow.trx.updateTable('webhook_deliveries').set(replay).where('endpoint_id', '=', endpointId).where('message_id', '=', messageId).execute();
      uow.noteChange({ kind: 'webhook_delivery', id: messageId, action: 'updated' });
      uow.noteDeliveries(1);
      return { ...row, ...replay };
    },
    { durable: true },
  );
  // The delivery as the replay left it: a pump may claim it the moment it is pending again, and
  // the answer describes what was accepted, not how far a worker got since.
  return (await toViews(units.db, [replayed]))[0]!;
}

/** Replays every dead delivery of an endpoint created at or after `since`, durably; returns how many. Refused while the endpoint is disabled. */
export async function replayFailed(units: UnitRunner, endpointId: string, since: number): Promise<number> {
  return units.run(
    async (uow) => {
      await requireEnabledEndpoint(uow.trx, endpointId);
      const rows = await uow.trx
        .updateTable('webhook_deliveries')
        .set({ ...REPLAY, next_attempt_at: uow.now })
        .where('endpoint_id', '=', endpointId)
        .where('status', '=', 'dead')
        .where('created_at', '>=', since)
        .returning('message_id')
        .execute();
      for (const r of rows) uow.noteChange({ kind: 'webhook_delivery', id: r.message_id, action: 'updated' });
      uow.noteDeliveries(rows.length);
      return rows.length;
    },
    { durable: true },
  );
}
