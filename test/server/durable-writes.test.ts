import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProduct } from '../helpers/test-app.js';
import { isPostgres } from '../../src/core/db/postgres.js';
import { openTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let syncs = 0;
let release: (() => void) | undefined;

beforeAll(async () => {
  t = await openTestServer({ BUILDFLOW_WEBHOOK_ALLOW_PRIVATE: '1' });
  await addProduct(t.app, 'A-1', 10);
  const real = t.app.sync.bind(t.app);
  // Counts the units' calls and lets a test hold the fsync back.
  t.app.sync = async () => {
    syncs++;
    if (release) await new Promise<void>((r) => (release = r));
    return real();
  };
});
afterAll(async () => t?.dispose());

/** Sends `request` with the fsync held back: it must not be answered before the sync is let go. */
async function answeredAfterSync(request: InjectOptions, as: 'admin' | 'anyone' = 'admin'): Promise<number> {
  syncs = 0;
  release = () => {};
  let answered = false;
  const pending = (as === 'admin' ? t.admin(request) : t.request(request)).then((r) => {
    answered = true;
    return r;
  });
  for (let i = 0; i < 100 && syncs === 0; i++) await new Promise((r) => setTimeout(r, 5));
  expect(syncs).toBe(1);
  expect(answered).toBe(false);
  const hold = release;
  release = undefined;
  hold();
  return (await pending).statusCode;
}

describe('durable writes', () => {
  it('when an admin write succeeds, then its answer waits for the WAL sync', async () => {
    expect(await answeredAfterSync({ method: 'POST', url: '/v1/products/A-1/stock', payload: { delta: 1, reason: 'count' } })).toBe(200);
  });

  it('when a customer signs up or a webhook endpoint is created, then the answer waits for the WAL sync (their use cases run in durable units)', async () => {
    const signUp = { method: 'POST', url: '/v1/customers', payload: { email: `durable-${Date.now()}@example.com`, name: 'Ada', password: 'correct horse battery' } } as const;
    expect(await answeredAfterSync(signUp, 'anyone')).toBe(201);
    expect(await answeredAfterSync({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://127.0.0.1:9/hooks', events: ['order.confirmed'] } })).toBe(201);
  });

  it('when a request reads or fails, then no unit adds a sync; an order placed syncs once, as its own unit', async () => {
    syncs = 0;
    expect((await t.request({ method: 'GET', url: '/v1/products/A-1' })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: '/v1/products/A-1/stock', payload: { delta: 1, reason: 'x' } })).statusCode).toBe(401);
    expect(syncs).toBe(0);
    expect((await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'A-1', quantity: 1 }] } })).statusCode).toBe(201);
    // Embedded, the SQLite commit thread syncs the WAL itself; on Postgres intake's batch is a
    // durable unit of the deployment's runner (whose sync is the commit itself).
    expect(syncs).toBe(isPostgres(t.app.db) ? 1 : 0);
  });
});
