import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { assertBuilt, startCli, startServer, tempDir, type RunningProcess } from '../cli/harness.js';
import { loadConfig } from '../../src/core/config.js';
import { openBuildflow } from '../../src/core/buildflow.js';
import { upsertProduct } from '../../src/core/catalog/products.js';
import { createEndpoint } from '../../src/core/webhooks/endpoints.js';
import { WebhookReceiver, waitFor } from '../helpers/webhook-receiver.js';

// Short lease and timeout so a killed worker's deliveries are retaken within seconds.
const ENV = {
  BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: '1',
  BUILDFLOW_WEBHOOK_TIMEOUT_MS: '1000',
  BUILDFLOW_WEBHOOK_RETRY_SCHEDULE: '0,100ms,200ms,300ms,500ms,500ms,500ms,500ms,500ms,500ms',
  BUILDFLOW_WORKER_LEASE_MS: '1000',
  BUILDFLOW_LOG_LEVEL: 'warn',
  BUILDFLOW_ADMIN_KEY: 'webhook-crash-admin-key-0123456789',
};
const ORDERS = 20;
const KILLS = 3;

const tmp = tempDir('buildflow-webhook-crash-');
let server: (RunningProcess & { url: string }) | undefined;
const workers: RunningProcess[] = [];
let receiver: WebhookReceiver;
let secret = '';

function query<T>(sql: string): T[] {
  const db = new BetterSqlite3(join(tmp.dir, 'buildflow.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

async function admin(path: string, body: unknown): Promise<number> {
  const res = await fetch(`${server!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ENV.BUILDFLOW_ADMIN_KEY}` },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  assertBuilt();
  // Each answer takes a while, so a kill lands while requests are open.
  receiver = await new WebhookReceiver(async () => {
    await new Promise((r) => setTimeout(r, 40 + Math.random() * 120));
    return { ok: true };
  }).start();
  const app = await openBuildflow(loadConfig({ BUILDFLOW_DATA_DIR: tmp.dir }, {}), { migrate: true });
  await upsertProduct(app.units, { sku: 'LOTS', name: 'Plenty', category: 'test', unitPriceCents: 250, onHand: 10_000 });
  secret = (await createEndpoint(app.db, { url: `${receiver.url}/hooks`, events: ['order.confirmed', 'order.shipped', 'order.delivered'] }, { allowPrivate: true })).secret;
  await app.close();
  server = await startServer(tmp.dir, ['--no-worker'], ENV);
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  await server?.stop();
  await receiver?.close();
  tmp.remove();
});

describe('webhook crash safety', () => {
  it('when workers are SIGKILLed mid-delivery, then the receiver, de-duplicating by webhook-id, sees every event once and in per-order sequence', async () => {
    for (let i = 0; i < ORDERS; i++) {
      const res = await fetch(`${server!.url}/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ENV.BUILDFLOW_ADMIN_KEY}` },
        body: JSON.stringify({ items: [{ sku: 'LOTS', quantity: 1 }] }),
      });
      expect(res.status).toBe(201);
      await res.arrayBuffer();
    }

    let worker = startCli(['worker', '--data-dir', tmp.dir], ENV);
    workers.push(worker);
    const requested = new Map<string, Set<string>>();
    // Moves every order along as soon as it can go: shipped once confirmed, delivered once shipped.
    const advance = async () => {
      const rows = query<{ order_id: string; tracking_code: string; status: string; requested_status: string | null }>(
        'select order_id, tracking_code, status, requested_status from shipments',
      );
      for (const s of rows) {
        const next = s.status === 'pending' ? 'shipped' : s.status === 'shipped' ? 'delivered' : undefined;
        const done = requested.get(s.order_id) ?? new Set();
        if (!next || s.requested_status || done.has(next)) continue;
        if ((await admin(`/v1/shipments/${s.tracking_code}/status`, { status: next })) === 202) done.add(next);
        requested.set(s.order_id, done);
      }
    };

    let killsMidDelivery = 0;
    for (let k = 0; k < KILLS; k++) {
      await waitFor('deliveries in flight', async () => {
        await advance();
        return receiver.open > 0;
      }, 60_000);
      worker.child.kill('SIGKILL');
      await new Promise((r) => worker.child.once('exit', r));
      if (receiver.open > 0) killsMidDelivery++;
      worker = startCli(['worker', '--data-dir', tmp.dir], ENV);
      workers.push(worker);
    }
    expect(killsMidDelivery).toBeGreaterThan(0);

    await waitFor('every event delivered', async () => {
      await advance();
      const [row] = query<{ n: number }>("select count(*) as n from webhook_deliveries where status = 'delivered'");
      return row!.n === ORDERS * 3;
    }, 120_000);
    expect(await worker.stop()).toBe(0);

    expect(query("select id from webhook_deliveries where status <> 'delivered'")).toEqual([]);
    const verifier = new Webhook(secret);
    const seen = new Map<string, { orderId: string; sequence: number; type: string }>();
    const perOrder = new Map<string, number[]>();
    for (const r of receiver.received) {
      const payload = verifier.verify(r.body, r.headers) as { type: string; data: { sequence: number; order: { id: string } } };
      const id = r.headers['webhook-id']!;
      const event = { orderId: payload.data.order.id, sequence: payload.data.sequence, type: payload.type };
      const before = seen.get(id);
      if (before) {
        // A duplicate is the same event, byte for byte in meaning.
        expect(before).toEqual(event);
        continue;
      }
      seen.set(id, event);
      perOrder.set(event.orderId, [...(perOrder.get(event.orderId) ?? []), event.sequence]);
    }
    expect(seen.size).toBe(ORDERS * 3);
    // A request cut off by a kill was sent again: the de-duplication above had work to do.
    expect(receiver.received.length).toBeGreaterThan(seen.size);
    expect(perOrder.size).toBe(ORDERS);
    for (const [orderId, sequences] of perOrder) expect(sequences, orderId).toEqual([1, 2, 3]);
    const types = [...seen.values()].reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.type]: (acc[e.type] ?? 0) + 1 }), {});
    expect(types).toEqual({ 'order.confirmed': ORDERS, 'order.shipped': ORDERS, 'order.delivered': ORDERS });
  });
});
