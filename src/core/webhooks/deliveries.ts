import type { Kysely, Selectable } from 'kysely';
import type { Database, WebhookDeliveriesTable } from '../db/schema.js';
import type { Db } from '../outbox/outbox.js';
import { disableEndpoint, signingSecrets } from './endpoints.js';
import { jittered, retryAfterMs } from './retry-schedule.js';
import { webhookHeaders } from './signing.js';
import { DEFAULTS } from '../defaults.js';

export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** How deliveries are retried and when an endpoint is given up on (from config.webhooks). */
export interface DeliveryPolicy {
  /** Delay before attempt n+1 at index n; after the last attempt the delivery is dead. */
  retrySchedule: readonly number[];
  disableAfterMs: number;
}

/** What to send for one claimed delivery, or why nothing is sent now. */
export type AttemptPlan =
  | { send: true; url: string; headers: Record<string, string>; body: string }
  | { send: false; why: 'finished' | 'endpoint-disabled' | 'waiting-for-earlier-event' };

const BLOCKED_RECHECK_MS = DEFAULTS.deliveries.blockedRecheckMs;

/**
 * Decides what a claimed delivery does now. Per endpoint and order, event k+1 waits while event k
 * is pending, and while the pipeline has not yet worked an earlier notification of that order
 * (its deliveries may not exist yet); a waiting delivery gets its attempt back.
 */
export async function planAttempt(db: Kysely<Database>, d: DeliveryRow, now: number): Promise<AttemptPlan> {
  const endpoint = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', d.endpoint_id).executeTakeFirst();
  if (!endpoint) return { send: false, why: 'finished' };
  if (endpoint.enabled !== 1) {
    await finishDelivery(db, d, 'dead', `endpoint disabled: ${endpoint.disabled_reason ?? 'disabled'}`, now);
    return { send: false, why: 'endpoint-disabled' };
  }
  if (d.order_id !== null && d.sequence !== null) {
    // The outbox first: an earlier notify message's step writes its deliveries and marks the
    // message done in one transaction, so once this read finds it no longer pending, the read of
    // deliveries below sees them. The other way round, a step committing between the two reads
    // was seen by neither, and event k+1 went out before event k (caught on postgres+redis by the
    // crash test).
    const unworkedNotify =
      d.source_message_id !== null &&
      (await db
        .selectFrom('outbox')
        .select('id')
        .where('order_id', '=', d.order_id)
        .where('topic', '=', 'notify')
        .where('status', '=', 'pending')
        .where('id', '<', d.source_message_id)
        .limit(1)
        .executeTakeFirst());
    const earlier = await db
      .selectFrom('webhook_deliveries')
      .select('next_attempt_at')
      .where('endpoint_id', '=', d.endpoint_id)
      .where('order_id', '=', d.order_id)
      .where('sequence', '<', d.sequence)
      .where('status', '=', 'pending')
      .orderBy('next_attempt_at')
      .limit(1)
      .executeTakeFirst();
    const unworked = earlier || unworkedNotify;
    if (unworked) {
      const at = Math.min(Math.max(earlier?.next_attempt_at ?? 0, now + 250), now + BLOCKED_RECHECK_MS);
      await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ attempts: eb('attempts', '-', 1), next_attempt_at: at, locked_until: null, locked_by: null }))
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .execute();
      return { send: false, why: 'waiting-for-earlier-event' };
    }
  }
  return { send: true, url: endpoint.url, body: d.body, headers: webhookHeaders(signingSecrets(endpoint, now), d.message_id, now, d.body) };
}

/** What one HTTP attempt came to. */
export interface AttemptOutcome {
  startedAt: number;
  durationMs: number;
  /** Absent when no answer came (refused, timed out, address not allowed). */
  statusCode?: number;
  /** The first KiB of the answer. */
  response?: string;
  retryAfter?: string;
  error?: string;
}

async function finishDelivery(db: Db, d: DeliveryRow, status: 'delivered' | 'dead', error: string | null, now: number): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status, finished_at: now, locked_until: null, locked_by: null, last_error: error?.slice(0, DEFAULTS.deliveries.errorExcerptChars) ?? null })
    .where('id', '=', d.id)
    .where('status', '=', 'pending')
    .execute();
  if (d.order_id === null || d.sequence === null) return;
  // The next events of this order to this endpoint were waiting for this one: they may go now.
  await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: now })
    .where('endpoint_id', '=', d.endpoint_id)
    .where('order_id', '=', d.order_id)
    .where('sequence', '>', d.sequence)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '>', now)
    .execute();
}

/**
 * Records an attempt and moves the delivery on, in one transaction: 2xx delivered; 410 dead and
 * the endpoint disabled; otherwise retried on the schedule (429/503 honour Retry-After) until it
 * runs out (dead), and the endpoint disabled once it has failed without a success for too long.
 * @returns the delivery's status afterwards.
 */
export async function recordAttempt(db: Kysely<Database>, d: DeliveryRow, o: AttemptOutcome, policy: DeliveryPolicy, now = Date.now()): Promise<'delivered' | 'dead' | 'pending'> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('webhook_deliveries').select('id').where('id', '=', d.id).executeTakeFirst();
    if (!current) return 'dead'; // its endpoint was removed meanwhile
    await trx
      .insertInto('webhook_attempts')
      .values({
        delivery_id: d.id,
        started_at: o.startedAt,
        duration_ms: Math.round(o.durationMs),
        status_code: o.statusCode ?? null,
        error: o.error?.slice(0, DEFAULTS.deliveries.errorExcerptChars) ?? null,
        response: o.response?.slice(0, DEFAULTS.deliveries.responseExcerptBytes) ?? null,
      })
      .execute();
    const code = o.statusCode;
    if (code !== undefined && code >= 200 && code < 300) {
      await finishDelivery(trx, d, 'delivered', null, now);
      await trx.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', '=', d.endpoint_id).execute();
      return 'delivered';
    }
    const why = o.error ?? `answered ${code}`;
    if (code === 410) {
      await finishDelivery(trx, d, 'dead', 'answered 410 Gone: endpoint disabled', now);
      await disableEndpoint(trx, d.endpoint_id, 'answered 410 Gone', now);
      return 'dead';
    }
    await trx
      .updateTable('webhook_endpoints')
      .set((eb) => ({ failing_since: eb.fn.coalesce('failing_since', eb.val(now)) }))
      .where('id', '=', d.endpoint_id)
      .execute();
    const endpoint = await trx.selectFrom('webhook_endpoints').select('failing_since').where('id', '=', d.endpoint_id).executeTakeFirst();
    if (endpoint?.failing_since != null && now - endpoint.failing_since >= policy.disableAfterMs) {
      await finishDelivery(trx, d, 'dead', `${why}; endpoint disabled after failing since ${new Date(endpoint.failing_since).toISOString()}`, now);
      await disableEndpoint(trx, d.endpoint_id, `failed without a success since ${new Date(endpoint.failing_since).toISOString()}`, now);
      return 'dead';
    }
    if (d.attempts >= policy.retrySchedule.length) {
      await finishDelivery(trx, d, 'dead', `${why}; gave up after ${d.attempts} attempts`, now);
      return 'dead';
    }
    const asked = code === 429 || code === 503 ? retryAfterMs(o.retryAfter, now) : undefined;
    const delay = asked ?? jittered(policy.retrySchedule[d.attempts]!);
    await trx
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: now + delay, locked_until: null, locked_by: null, last_error: why.slice(0, DEFAULTS.deliveries.errorExcerptChars) })
      .where('id', '=', d.id)
      .where('status', '=', 'pending')
      .execute();
    return 'pending';
  });
}
