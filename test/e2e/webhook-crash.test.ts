import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { assertBuilt, startCli, startServer, type RunningProcess } from '../cli/harness.js';
import { BACKENDS } from '../helpers/backends.js';
import { openCellStorage, tearDownCell, type CellStorage } from '../helpers/cell-storage.js';
import { upsertProduct } from '../../src/core/catalog/products.js';
import { createEndpoint } from '../../src/core/webhooks/endpoints.js';
import { WebhookReceiver, waitFor } from '../helpers/webhook-receiver.js';

// Short lease and timeout so a killed worker's deliveries are retaken within seconds; on Redis,
// a job the killed worker took from the queue but never finished is republished soon too.
const ENV = {
  BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: '1',
  BUILDFLOW_WEBHOOK_TIMEOUT_MS: '1000',
  BUILDFLOW_WEBHOOK_RETRY_SCHEDULE: '0,100ms,200ms,300ms,500ms,500ms,500ms,500ms,500ms,500ms',
  BUILDFLOW_WORKER_LEASE_MS: '1000',
  BUILDFLOW_REPUBLISH_AFTER_MS: '1000',
  BUILDFLOW_LOG_LEVEL: 'warn',
  BUILDFLOW_ADMIN_KEY: 'webhook-crash-admin-key-0123456789',
};
const ORDERS = 20;
const KILLS = 3;
// Under vitest's 60 s per test, so a stuck cell fails here, saying what it waited for.
const KILLS_WITHIN_MS = 15_000;
const SETTLED_WITHIN_MS = 30_000;

for (const backend of BACKENDS) describe(`webhook crash safety [${backend}]`, () => {
  let storage: CellStorage | undefined;
  let server: (RunningProcess & { url: string }) | undefined;
  const workers: RunningProcess[] = [];
  let receiver: WebhookReceiver | undefined;
  let secret = '';
  let env: Record<string, string> = {};

  async function admin(path: string, body: unknown): Promise<number> {
    const res = await fetch(`${server!.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ENV.BUILDFLOW_ADMIN_KEY}` },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  }

  function startWorker(): RunningProcess {
    const worker = startCli(['worker', '--data-dir', storage!.dir], env);
    workers.push(worker);
    return worker;
  }

  /** waitFor, failing with what the deliveries look like and what the workers said. */
  async function within(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    try {
      await waitFor(what, check, timeoutMs);
    } catch (err) {
      const rows = await storage!.db.selectFrom('webhook_deliveries').select(['status']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('status').execute();
      const logs = workers.map((w) => w.output().stderr.slice(-1500)).join('\n---\n');
      throw new Error(`${(err as Error).message}; deliveries by status ${JSON.stringify(rows.map((r) => [r.status, Number(r.n)]))}; worker stderr:\n${logs}`);
    }
  }

  beforeAll(async () => {
    assertBuilt();
    // Each answer takes a while, so a kill lands while requests are open: deliveries go out the
    // moment they commit, so a quick receiver leaves few open between kills.
    receiver = await new WebhookReceiver(async () => {
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
      return { ok: true };
    }).start();
    const url = `${receiver.url}/hooks`;
    storage = await openCellStorage(backend, {
      tmpPrefix: 'buildflow-webhook-crash-',
      async seed(app) {
        await upsertProduct(app.units, { sku: 'LOTS', name: 'Plenty', category: 'test', unitPriceCents: 250, onHand: 10_000 });
        secret = (await createEndpoint(app.units, { url, events: ['order.confirmed', 'order.shipped', 'order.delivered'] }, { allowPrivate: true })).secret;
      },
    });
    env = { ...ENV, ...storage.env };
    server = await startServer(storage.dir, ['--no-worker'], env);
  });

  afterAll(() => tearDownCell([...workers, server], storage, async () => receiver?.close()));

  it('when workers are SIGKILLed mid-delivery, then the receiver, de-duplicating by webhook-id, sees every event once and in per-order sequence', async () => {
    const db = storage!.db;
    const rx = receiver!;
    for (let i = 0; i < ORDERS; i++) {
      const res = await fetch(`${server!.url}/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ENV.BUILDFLOW_ADMIN_KEY}` },
        body: JSON.stringify({ items: [{ sku: 'LOTS', quantity: 1 }] }),
      });
      expect(res.status).toBe(201);
      await res.arrayBuffer();
    }

    let worker = startWorker();
    const requested = new Map<string, Set<string>>();
    // Moves every order along as soon as it can go: shipped once confirmed, delivered once shipped.
    const advance = async () => {
      const rows = await db.selectFrom('shipments').select(['order_id', 'tracking_code', 'status', 'requested_status']).execute();
      for (const s of rows) {
        const next = s.status === 'pending' ? 'shipped' : s.status === 'shipped' ? 'delivered' : undefined;
        const done = requested.get(s.order_id) ?? new Set();
        if (!next || s.requested_status || done.has(next)) continue;
        if ((await admin(`/v1/shipments/${s.tracking_code}/status`, { status: next })) === 202) done.add(next);
        requested.set(s.order_id, done);
      }
    };

    let killsMidDelivery = 0;
    const killsBy = Date.now() + KILLS_WITHIN_MS;
    for (let k = 0; k < KILLS; k++) {
      await within(`deliveries in flight before kill ${k + 1}`, async () => {
        await advance();
        return rx.open > 0;
      }, killsBy - Date.now());
      worker.child.kill('SIGKILL');
      await worker.exited;
      if (rx.open > 0) killsMidDelivery++;
      worker = startWorker();
    }
    expect(killsMidDelivery).toBeGreaterThan(0);

    const delivered = async () => Number((await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'delivered').executeTakeFirstOrThrow()).n);
    await within('every event delivered', async () => {
      await advance();
      return (await delivered()) === ORDERS * 3;
    }, SETTLED_WITHIN_MS);
    expect(await worker.stop()).toBe(0);

    expect(await db.selectFrom('webhook_deliveries').select(['id', 'status']).where('status', '<>', 'delivered').execute()).toEqual([]);
    const verifier = new Webhook(secret);
    const seen = new Map<string, { orderId: string; sequence: number; type: string }>();
    const perOrder = new Map<string, number[]>();
    for (const r of rx.received) {
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
    expect(rx.received.length).toBeGreaterThan(seen.size);
    expect(perOrder.size).toBe(ORDERS);
    for (const [orderId, sequences] of perOrder) expect(sequences, orderId).toEqual([1, 2, 3]);
    const types = [...seen.values()].reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.type]: (acc[e.type] ?? 0) + 1 }), {});
    expect(types).toEqual({ 'order.confirmed': ORDERS, 'order.shipped': ORDERS, 'order.delivered': ORDERS });
  });
});
