import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProduct } from '../helpers/test-app.js';
import { openTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let syncs = 0;
let release: (() => void) | undefined;

beforeAll(async () => {
  t = await openTestServer();
  await addProduct(t.app, 'A-1', 10);
  const real = t.app.sync.bind(t.app);
  // Counts the hook's calls and lets a test hold the fsync back.
  t.app.sync = async () => {
    syncs++;
    if (release) await new Promise<void>((r) => (release = r));
    return real();
  };
});
afterAll(async () => t?.dispose());

describe('durable writes', () => {
  it('when an admin write succeeds, then its answer waits for the WAL sync', async () => {
    syncs = 0;
    release = () => {};
    let answered = false;
    const pending = t.admin({ method: 'POST', url: '/v1/products/A-1/stock', payload: { delta: 1, reason: 'count' } }).then((r) => {
      answered = true;
      return r;
    });
    for (let i = 0; i < 50 && syncs === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(syncs).toBe(1);
    expect(answered).toBe(false);
    const hold = release;
    release = undefined;
    hold();
    expect((await pending).statusCode).toBe(200);
  });

  it('when a request reads, fails, or places an order (which syncs itself), then the hook adds no sync', async () => {
    syncs = 0;
    expect((await t.request({ method: 'GET', url: '/v1/products/A-1' })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: '/v1/products/A-1/stock', payload: { delta: 1, reason: 'x' } })).statusCode).toBe(401);
    expect((await t.admin({ method: 'POST', url: '/v1/orders', payload: { items: [{ sku: 'A-1', quantity: 1 }] } })).statusCode).toBe(201);
    expect(syncs).toBe(0);
  });
});
