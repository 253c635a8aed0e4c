import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { getOrder, type OrderScope } from './queries.js';

/** What a trace entry records. `step` and `webhook` entries are internal: the owner does not see them. */
export type TraceKind = 'transition' | 'payment' | 'stock' | 'notification' | 'email' | 'webhook' | 'step';

export interface TraceEvent {
  at: string;
  kind: TraceKind;
  /** One line, as a person reads it. */
  summary: string;
  /** The stored row's fields, for `--json` and scripts. */
  detail: Record<string, unknown>;
}

export interface OrderTrace {
  orderId: string;
  reference: string;
  status: string;
  events: TraceEvent[];
}

const INTERNAL: ReadonlySet<TraceKind> = new Set(['webhook', 'step']);
const iso = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/**
 * An order's whole story from the rows stored about it, in time order: transitions with their
 * reasons, the payment, stock movements, notifications, emails, each webhook delivery attempt and
 * the pipeline message (its step, attempts, last error; a done message is deleted, so only one
 * still waiting, dead or discarded shows). `internal` false (the owner) leaves out webhook and step
 * entries and the payment's provider reference.
 */
export async function orderTrace(db: Kysely<Database>, idOrReference: string, scope?: OrderScope, internal = scope === undefined): Promise<OrderTrace> {
  const order = await getOrder(db, idOrReference, scope);
  const id = order.id;
  const [history, payments, movements, notes, emails, deliveries, attempts, messages] = await Promise.all([
    db.selectFrom('order_history').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    db.selectFrom('payments').selectAll().where('order_id', '=', id).execute(),
    db.selectFrom('stock_movements').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    db.selectFrom('notifications').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    db.selectFrom('email_messages').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    db.selectFrom('webhook_deliveries').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    db
      .selectFrom('webhook_attempts as a')
      .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
      .select(['a.delivery_id', 'a.started_at', 'a.duration_ms', 'a.status_code', 'a.error', 'd.endpoint_id', 'd.event_type'])
      .where('d.order_id', '=', id)
      .orderBy('a.id')
      .execute(),
    db.selectFrom('outbox').selectAll().where('order_id', '=', id).orderBy('id').execute(),
  ]);

  const events: (TraceEvent & { ms: number; seq: number })[] = [];
  const add = (ms: number | string, kind: TraceKind, summary: string, detail: Record<string, unknown>) =>
    events.push({ ms: Number(ms), seq: events.length, at: iso(ms)!, kind, summary, detail });

  for (const h of history) add(h.at, 'transition', `${h.from_status ?? 'new'} → ${h.to_status}${h.reason ? ` (${h.reason})` : ''}`, { from: h.from_status, to: h.to_status, reason: h.reason });
  for (const p of payments) {
    const detail: Record<string, unknown> = { status: p.status, amountCents: Number(p.amount_cents) };
    if (internal) Object.assign(detail, { idempotencyKey: p.idempotency_key, providerRef: p.provider_ref });
    add(p.created_at, 'payment', `payment of ${Number(p.amount_cents)} cents asked`, { ...detail, status: 'pending' });
    if (p.status !== 'pending') add(p.updated_at, 'payment', `payment ${p.status}`, detail);
  }
  for (const m of movements) add(m.at, 'stock', `${m.kind} ${m.sku}: on hand ${signed(m.on_hand_delta)}, reserved ${signed(m.reserved_delta)}`, { sku: m.sku, movement: m.kind, onHandDelta: m.on_hand_delta, reservedDelta: m.reserved_delta, reason: m.reason });
  for (const n of notes) add(n.created_at, 'notification', `${n.kind}: ${n.message}`, { notification: n.kind, message: n.message });
  for (const e of emails) {
    const detail = { email: e.kind, recipient: e.recipient, status: e.status, attempts: e.attempts, lastError: e.last_error };
    add(e.created_at, 'email', `email ${e.kind} to ${e.recipient} queued`, { ...detail, status: 'pending' });
    if (e.status === 'sent' && e.sent_at !== null) add(e.sent_at, 'email', `email ${e.kind} sent`, detail);
    else if (e.status !== 'pending') add(e.created_at, 'email', `email ${e.kind} ${e.status} after ${e.attempts} attempt(s): ${e.last_error ?? ''}`, detail);
  }
  if (internal) {
    for (const d of deliveries) {
      const detail = { deliveryId: d.id, endpointId: d.endpoint_id, event: d.event_type, status: d.status, attempts: d.attempts, lastError: d.last_error };
      add(d.created_at, 'webhook', `webhook ${d.event_type} to ${d.endpoint_id} queued (${d.status})`, detail);
      if (d.status === 'dead' && d.finished_at !== null) add(d.finished_at, 'webhook', `webhook ${d.event_type} to ${d.endpoint_id} dead: ${d.last_error ?? ''}`, detail);
    }
    for (const a of attempts) {
      const outcome = a.status_code !== null ? `HTTP ${a.status_code}` : (a.error ?? 'no answer');
      add(a.started_at, 'webhook', `webhook ${a.event_type} attempt: ${outcome} in ${a.duration_ms} ms`, { deliveryId: a.delivery_id, endpointId: a.endpoint_id, statusCode: a.status_code, error: a.error, durationMs: a.duration_ms });
    }
    for (const m of messages) {
      const detail = { messageId: m.id, step: m.topic, status: m.status, attempts: m.attempts, lastError: m.last_error };
      add(m.created_at, 'step', `pipeline message ${m.id} queued at ${m.topic}`, { ...detail, status: 'pending' });
      // A re-driven dead letter keeps the time it died (dead-letter-bulk.ts): its story shows both.
      if (m.status === 'pending' && m.processed_at !== null) {
        add(m.processed_at, 'step', `dead-lettered at ${m.topic}: ${m.last_error ?? ''}`, { ...detail, status: 'dead' });
        add(m.available_at, 'step', `re-driven: queued again at ${m.topic}`, detail);
      } else if (m.status === 'pending' && m.last_error) add(m.available_at, 'step', `${m.topic} failed ${m.attempts} time(s), retrying: ${m.last_error}`, detail);
      if (m.status === 'pending' && !m.last_error && m.attempts > 0) add(m.available_at, 'step', `waiting at ${m.topic} (attempt ${m.attempts})`, detail);
      if (m.status === 'dead' || m.status === 'discarded') {
        add(m.processed_at ?? m.created_at, 'step', `dead-lettered at ${m.topic} after ${m.attempts} attempt(s): ${m.last_error ?? ''}${m.status === 'discarded' ? ' (discarded)' : ''}`, detail);
      }
    }
  }
  events.sort((a, b) => a.ms - b.ms || a.seq - b.seq);
  return { orderId: id, reference: order.reference, status: order.status, events: events.map(({ ms: _ms, seq: _seq, ...e }) => e) };
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
