import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, WebhookEndpointsTable } from '../db/schema.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import type { Db } from '../outbox/outbox.js';
import { isPostgres } from '../db/postgres.js';
import { decodeCursor, encodeCursor, pageLimit, toPage, type Page } from '../pagination.js';
import { checkWebhookUrl } from './address-policy.js';
import { isWebhookEvent, type WebhookEventType } from './events.js';
import { newWebhookSecret } from './signing.js';
import { DEFAULTS } from '../defaults.js';

/** After a rotation the old secret keeps signing (beside the new one) this long. */
export const SECRET_OVERLAP_MS = DEFAULTS.deliveries.secretOverlapMs;
/** `stock.low` fires when a product's stock on hand falls to this or below, unless the endpoint says otherwise. */
export const DEFAULT_STOCK_LOW_THRESHOLD = DEFAULTS.webhooks.stockLowThreshold;

type EndpointRow = Selectable<WebhookEndpointsTable>;

/** An endpoint as the API shows it: never its secret, except once on creation and rotation. */
export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  stockLowThreshold: number;
  enabled: boolean;
  disabledReason?: string;
  /** While set, deliveries are signed with the previous secret too. */
  previousSecretExpiresAt?: string;
  createdAt: string;
  updatedAt: string;
}

export interface NewWebhookEndpoint {
  url: string;
  events: string[];
  description?: string;
  stockLowThreshold?: number;
}

export function toEndpointView(row: EndpointRow, now = Date.now()): WebhookEndpointView {
  const view: WebhookEndpointView = {
    id: row.id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as WebhookEventType[],
    stockLowThreshold: row.stock_low_threshold,
    enabled: row.enabled === 1,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (row.disabled_reason) view.disabledReason = row.disabled_reason;
  if (row.previous_secret && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now) {
    view.previousSecretExpiresAt = new Date(row.previous_secret_expires_at).toISOString();
  }
  return view;
}

function checkEvents(events: readonly string[]): WebhookEventType[] {
  const unknown = events.filter((e) => !isWebhookEvent(e));
  if (unknown.length > 0) throw new BuildflowError('WEBHOOK_EVENT_UNKNOWN', `unknown event ${unknown.map((e) => `"${e}"`).join(', ')}`);
  if (events.length === 0) throw new BuildflowError('VALIDATION_FAILED', 'events must name at least one event');
  return [...new Set(events as WebhookEventType[])];
}

/**
 * Registers an endpoint, durably; its URL is resolved (before the unit of work, so no transaction
 * waits on DNS) and refused if it reaches a private address.
 * @returns the endpoint and its signing secret, which is shown this once.
 */
export async function createEndpoint(
  units: UnitRunner,
  input: NewWebhookEndpoint,
  policy: { allowPrivate: boolean },
): Promise<WebhookEndpointView & { secret: string }> {
  const events = checkEvents(input.events);
  const url = await checkWebhookUrl(input.url, policy.allowPrivate);
  const now = Date.now();
  const row: EndpointRow = {
    id: `ep_${randomUUID().replace(/-/g, '')}`,
    url: url.toString(),
    description: input.description ?? '',
    events: JSON.stringify(events),
    stock_low_threshold: input.stockLowThreshold ?? DEFAULT_STOCK_LOW_THRESHOLD,
    enabled: 1,
    disabled_reason: null,
    secret: newWebhookSecret(),
    previous_secret: null,
    previous_secret_expires_at: null,
    failing_since: null,
    created_at: now,
    updated_at: now,
  };
  await units.run(
    async (uow) => {
      await uow.trx.insertInto('webhook_endpoints').values(row).execute();
      uow.noteChange({ kind: 'webhook_endpoint', id: row.id, action: 'created' });
    },
    { durable: true, now },
  );
  return { ...toEndpointView(row, now), secret: row.secret };
}

async function endpointRow(db: Db, id: string): Promise<EndpointRow> {
  const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new BuildflowError('WEBHOOK_NOT_FOUND', `no webhook endpoint ${id}`);
  return row;
}

export async function getEndpoint(db: Kysely<Database>, id: string): Promise<WebhookEndpointView> {
  return toEndpointView(await endpointRow(db, id));
}

/** Endpoints, oldest first. */
export async function listEndpoints(db: Kysely<Database>, q: { limit?: number; cursor?: string } = {}): Promise<Page<WebhookEndpointView>> {
  const limit = pageLimit(q.limit);
  let query = db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').limit(limit + 1);
  if (q.cursor) {
    const [at, id] = decodeCursor(q.cursor, ['number', 'string'] as const);
    query = query.where((eb) => eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('id', '>', id)])]));
  }
  const rows = await query.execute();
  const now = Date.now();
  return toPage(rows, limit, (r) => r.map((row) => toEndpointView(row, now)), (r) => encodeCursor([r.created_at, r.id]));
}

export interface EndpointChanges {
  url?: string;
  events?: string[];
  description?: string;
  stockLowThreshold?: number;
  enabled?: boolean;
}

/**
 * Changes an endpoint, durably (a new URL is resolved before the unit of work). Enabling one also
 * forgets its failure streak, so it gets five days again.
 */
export async function updateEndpoint(units: UnitRunner, id: string, changes: EndpointChanges, policy: { allowPrivate: boolean }): Promise<WebhookEndpointView> {
  await endpointRow(units.db, id);
  const patch: Partial<EndpointRow> = {};
  if (changes.events !== undefined) patch.events = JSON.stringify(checkEvents(changes.events));
  if (changes.url !== undefined) patch.url = (await checkWebhookUrl(changes.url, policy.allowPrivate)).toString();
  if (changes.description !== undefined) patch.description = changes.description;
  if (changes.stockLowThreshold !== undefined) patch.stock_low_threshold = changes.stockLowThreshold;
  if (changes.enabled === true) Object.assign(patch, { enabled: 1, disabled_reason: null, failing_since: null });
  if (changes.enabled === false) Object.assign(patch, { enabled: 0, disabled_reason: 'disabled by the admin' });
  await units.run(
    async (uow) => {
      const res = await uow.trx.updateTable('webhook_endpoints').set({ ...patch, updated_at: uow.now }).where('id', '=', id).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new BuildflowError('WEBHOOK_NOT_FOUND', `no webhook endpoint ${id}`);
      if (changes.enabled === false) await killPendingDeliveries(uow.trx, id, 'disabled by the admin', uow.now);
      uow.noteChange({ kind: 'webhook_endpoint', id, action: 'updated' });
    },
    { durable: true },
  );
  return getEndpoint(units.db, id);
}

/** Disables an endpoint for `reason` (410 Gone, failing too long), in the caller's transaction. */
export async function disableEndpoint(db: Db, id: string, reason: string, now: number): Promise<void> {
  const res = await db.updateTable('webhook_endpoints').set({ enabled: 0, disabled_reason: reason, updated_at: now }).where('id', '=', id).where('enabled', '=', 1).executeTakeFirst();
  if (Number(res.numUpdatedRows) > 0) await killPendingDeliveries(db, id, reason, now);
}

/**
 * A disabled endpoint's pending deliveries are dead at once, with the reason, so `deliveries
 * --status dead` and `replay --since` find them right after (one being sent at this moment is
 * recorded as its attempt ends; its outcome cannot revive it).
 */
async function killPendingDeliveries(db: Db, id: string, reason: string, now: number): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'dead', finished_at: now, locked_until: null, locked_by: null, last_error: `endpoint disabled: ${reason}` })
    .where('endpoint_id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** A new secret, durably; the old one keeps signing for {@link SECRET_OVERLAP_MS}. Returns the new secret, shown this once. */
export async function rotateSecret(units: UnitRunner, id: string): Promise<WebhookEndpointView & { secret: string }> {
  const secret = newWebhookSecret();
  await units.run(
    async (uow) => {
      const row = await endpointRow(uow.trx, id);
      await uow.trx
        .updateTable('webhook_endpoints')
        .set({ secret, previous_secret: row.secret, previous_secret_expires_at: uow.now + SECRET_OVERLAP_MS, updated_at: uow.now })
        .where('id', '=', id)
        .execute();
      uow.noteChange({ kind: 'webhook_endpoint', id, action: 'updated' });
    },
    { durable: true },
  );
  return { ...(await getEndpoint(units.db, id)), secret };
}

/** Removes an endpoint with its deliveries and their log, durably. */
export async function removeEndpoint(units: UnitRunner, id: string): Promise<void> {
  await units.run(
    async (uow) => {
      const trx = uow.trx;
      await endpointRow(trx, id);
      // Locks the deliveries first, so an attempt being recorded meanwhile waits (and then finds its delivery gone).
      if (isPostgres(trx)) await trx.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id).forUpdate().execute();
      const deliveries = trx.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id);
      await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', deliveries).execute();
      await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      await trx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
      uow.noteChange({ kind: 'webhook_endpoint', id, action: 'deleted' });
    },
    { durable: true },
  );
}

/** The secrets that sign a delivery now: the current one, and the previous one during its overlap. */
export function signingSecrets(row: Pick<EndpointRow, 'secret' | 'previous_secret' | 'previous_secret_expires_at'>, now: number): string[] {
  const secrets = [row.secret];
  if (row.previous_secret && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now) secrets.push(row.previous_secret);
  return secrets;
}
