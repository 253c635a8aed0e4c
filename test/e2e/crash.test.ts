import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, startCli, startServer, tempDir, type RunningProcess } from '../cli/harness.js';
import { loadConfig } from '../../src/core/config.js';
import { openBuildflow } from '../../src/core/buildflow.js';
import { upsertProduct } from '../../src/core/catalog/products.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';

// Slow payments keep orders in the pipeline long enough to kill a worker in the middle of it;
// a short lease lets the restarted worker take over the dead one's claims quickly.
const ENV = { BUILDFLOW_PAYMENT_LATENCY_MS: '400', BUILDFLOW_WORKER_LEASE_MS: '1000', BUILDFLOW_WORKER_CONCURRENCY: '2', BUILDFLOW_LOG_LEVEL: 'warn', BUILDFLOW_ADMIN_KEY: 'crash-test-admin-key-0123456789' };
const ORDERS = 150;

const tmp = tempDir('buildflow-crash-');
let server: (RunningProcess & { url: string }) | undefined;
const workers: RunningProcess[] = [];

function readDb(file: string): BetterSqlite3.Database {
  return new BetterSqlite3(join(tmp.dir, file), { readonly: true, fileMustExist: true });
}

function statusCounts(): Record<string, number> {
  const db = readDb('buildflow.db');
  try {
    const rows = db.prepare('select status, count(*) as n from orders group by status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    db.close();
  }
}

function pendingPayments(): number {
  const db = readDb('buildflow.db');
  try {
    return (db.prepare("select count(*) as n from payments where status = 'pending'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(statusCounts())}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  assertBuilt();
  const app = await openBuildflow(loadConfig({ BUILDFLOW_DATA_DIR: tmp.dir }, {}), { migrate: true });
  await upsertProduct(app.units, { sku: 'LOTS', name: 'Plenty', category: 'test', unitPriceCents: 250, onHand: 10_000 });
  await upsertProduct(app.units, { sku: 'FEW', name: 'Scarce', category: 'test', unitPriceCents: 990, onHand: 40 });
  await app.close();
  // Private webhook URLs allowed: the endpoint written below points at this machine.
  server = await startServer(tmp.dir, ['--no-worker'], { ...ENV, BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: '1' });
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  await server?.stop();
  tmp.remove();
});

describe('crash safety', () => {
  it('when a worker is SIGKILLed mid-pipeline and restarted, then every accepted order reaches one final state and nothing is charged twice', async () => {
    const placed = await Promise.all(
      Array.from({ length: ORDERS }, async (_, i) => {
        const res = await fetch(`${server!.url}/v1/orders`, {
          method: 'POST',
          // Order routes need a customer token or the admin key; the admin's orders have no owner.
          headers: { 'content-type': 'application/json', 'idempotency-key': `crash-${i}`, authorization: `Bearer ${ENV.BUILDFLOW_ADMIN_KEY}` },
          body: JSON.stringify({ items: [{ sku: 'LOTS', quantity: 1 + (i % 3) }, { sku: 'FEW', quantity: 1 }] }),
        });
        expect(res.status).toBe(201);
        return (await res.json()) as { id: string };
      }),
    );
    expect(new Set(placed.map((o) => o.id)).size).toBe(ORDERS);

    const first = startCli(['worker', '--data-dir', tmp.dir], ENV);
    workers.push(first);
    // Stock reserved and charges sent with no answer recorded yet: the worst moment to die.
    await until('charges to be in flight', () => pendingPayments() > 0, 30_000);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const atKill = statusCounts();
    const inProgress = (atKill.pending ?? 0) + (atKill.reserved ?? 0) + (atKill.paid ?? 0);
    expect(inProgress).toBeGreaterThan(0); // the kill really happened mid-pipeline
    expect(pendingPayments()).toBeGreaterThan(0); // …with charges sent and no answer recorded

    const second = startCli(['worker', '--data-dir', tmp.dir], ENV);
    workers.push(second);
    await until('every order to be final', () => {
      const c = statusCounts();
      return (c.confirmed ?? 0) + (c.cancelled ?? 0) === ORDERS;
    }, 60_000);
    expect(await second.stop()).toBe(0);

    const db = readDb('buildflow.db');
    const charges = readDb('simulated-payments.db');
    try {
      const orders = db.prepare('select id, status, cancel_reason, total_cents from orders').all() as {
        id: string;
        status: string;
        cancel_reason: string | null;
        total_cents: number;
      }[];
      expect(orders).toHaveLength(ORDERS);
      const confirmed = orders.filter((o) => o.status === 'confirmed');
      // FEW has 40 units and every order wants one: exactly 40 can be confirmed, the rest run out of stock.
      expect(confirmed).toHaveLength(40);
      expect(orders.filter((o) => o.status === 'cancelled').every((o) => o.cancel_reason === 'out_of_stock')).toBe(true);

      const payments = db.prepare('select order_id, idempotency_key, status, amount_cents from payments').all() as {
        order_id: string;
        idempotency_key: string;
        status: string;
        amount_cents: number;
      }[];
      expect(payments).toHaveLength(40);
      expect(payments.every((p) => p.status === 'captured')).toBe(true);
      const provider = charges.prepare('select idempotency_key, outcome, amount_cents, refunded from simulated_charges').all() as {
        idempotency_key: string;
        outcome: string;
        amount_cents: number;
        refunded: number;
      }[];
      // One charge per confirmed order, for its total, however often the provider was asked
      // (the charges cut off by the kill were asked again under the same key).
      const byKey = new Map(provider.map((c) => [c.idempotency_key, c]));
      expect(provider).toHaveLength(40);
      for (const o of confirmed) {
        const p = payments.find((x) => x.order_id === o.id)!;
        expect(byKey.get(p.idempotency_key)).toMatchObject({ outcome: 'captured', amount_cents: o.total_cents, refunded: 0 });
      }

      const notes = db.prepare('select order_id, count(*) as n from notifications group by order_id').all() as { n: number }[];
      expect(notes).toHaveLength(ORDERS);
      expect(notes.every((n) => n.n === 1)).toBe(true);
      const shipments = db.prepare('select count(*) as n from shipments').get() as { n: number };
      expect(shipments.n).toBe(40);
      expect(db.prepare("select count(*) as n from outbox where status <> 'done'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
      charges.close();
    }

    const app = await openBuildflow(loadConfig({ BUILDFLOW_DATA_DIR: tmp.dir }, {}));
    try {
      expect(await findStockDrift(app.db)).toEqual([]);
    } finally {
      await app.close();
    }
  });
  it('when serve is SIGKILLed right after it acknowledged a sign-up and a webhook endpoint, then both are in the database', async () => {
    const post = (path: string, body: unknown, admin: boolean) =>
      fetch(`${server!.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(admin ? { authorization: `Bearer ${ENV.BUILDFLOW_ADMIN_KEY}` } : {}) },
        body: JSON.stringify(body),
      });
    const signUp = await post('/v1/customers', { email: 'crash@example.com', name: 'Ada', password: 'correct horse battery' }, false);
    expect(signUp.status).toBe(201);
    const endpoint = await post('/v1/webhooks', { url: 'http://127.0.0.1:9/hooks', events: ['order.confirmed'] }, true);
    expect(endpoint.status).toBe(201);
    const [customer, hook] = [(await signUp.json()) as { id: string }, (await endpoint.json()) as { id: string }];
    server!.child.kill('SIGKILL');
    await new Promise((r) => server!.child.once('exit', r));
    server = undefined;

    const db = readDb('buildflow.db');
    try {
      expect(db.prepare('select email from customers where id = ?').get(customer.id)).toEqual({ email: 'crash@example.com' });
      expect(db.prepare('select url from webhook_endpoints where id = ?').get(hook.id)).toEqual({ url: 'http://127.0.0.1:9/hooks' });
    } finally {
      db.close();
    }
  });
});
