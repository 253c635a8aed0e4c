import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { BACKENDS, TEST_REDIS_URL, usesRedis } from '../helpers/backends.js';
import { addProduct, cancelAs, openTestApp, type TestApp } from '../helpers/test-app.js';
import { runUntilIdle, runUpTo } from '../helpers/pipeline.js';
import { createSweeper } from '../../src/worker/start-workers.js';
import { adjustStock, upsertProduct } from '../../src/core/catalog/products.js';

let app: TestApp;
let redis: Redis | undefined;
afterEach(async () => {
  redis?.disconnect();
  redis = undefined;
  await app?.dispose();
});

async function cached(sku: string): Promise<Record<string, unknown> | null> {
  redis ??= new Redis(TEST_REDIS_URL);
  const raw = await redis.get(`${app.config.redis.prefix}:product:${sku}`);
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
}

for (const backend of BACKENDS.filter(usesRedis)) describe(`product cache [${backend}]`, () => {
  it('when a product is read, then the read is cached in Redis with a TTL and served from there', async () => {
    app = await openTestApp({ BUILDFLOW_CACHE_TTL_MS: 60_000 }, {}, backend);
    await addProduct(app, 'A', 5, 1200);
    expect(await cached('A')).toBeNull();
    expect(await app.getProduct('A')).toMatchObject({ sku: 'A', available: 5 });
    expect(await cached('A')).toMatchObject({ sku: 'A', onHand: 5, unitPriceCents: 1200 });
    const ttl = await redis!.pttl(`${app.config.redis.prefix}:product:A`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Served from the cache: a change behind the application's back is not seen until invalidated.
    await app.db.updateTable('products').set({ name: 'renamed directly' }).where('sku', '=', 'A').execute();
    expect((await app.getProduct('A')).name).toBe('Product A');
  });

  it('when the pipeline reserves and sells stock, then the cached read is dropped and the next read is current', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    await app.getProduct('A');
    await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    await runUpTo(app, 'pay'); // reserve only
    expect(await cached('A')).toBeNull();
    expect(await app.getProduct('A')).toMatchObject({ onHand: 5, reserved: 2, available: 3 });
    await runUntilIdle(app); // pay, confirm (sale)
    expect(await app.getProduct('A')).toMatchObject({ onHand: 3, reserved: 0, available: 3 });
  });

  it('when stock or price changes through the application, then the cached read is dropped', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5, 1000);
    await app.getProduct('A');
    await adjustStock(app.units, 'A', { delta: 4, reason: 'delivery' });
    expect(await cached('A')).toBeNull();
    expect(await app.getProduct('A')).toMatchObject({ onHand: 9 });
    await upsertProduct(app.units, { sku: 'A', name: 'Product A', category: 'tools', unitPriceCents: 1500 });
    expect(await app.getProduct('A')).toMatchObject({ unitPriceCents: 1500 });
  });

  it('when an order is cancelled or its reservation expires, then the released stock shows at once', async () => {
    app = await openTestApp({ BUILDFLOW_RESERVATION_TTL_MS: 1000 }, {}, backend);
    await addProduct(app, 'A', 5);
    const first = await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    const second = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    await runUpTo(app, 'pay'); // both reserved
    expect(await app.getProduct('A')).toMatchObject({ reserved: 3 });
    await cancelAs(app, first.order.id);
    expect(await app.getProduct('A')).toMatchObject({ reserved: 1 });
    expect(await app.getProduct('A')).toMatchObject({ reserved: 1 }); // cached again
    await new Promise((r) => setTimeout(r, 1100)); // the second order's reservation lapses
    await createSweeper(app).tick();
    expect(await app.getProduct('A')).toMatchObject({ reserved: 0, available: 5 });
    expect((await app.db.selectFrom('orders').select('cancel_reason').where('id', '=', second.order.id).executeTakeFirstOrThrow()).cancel_reason).toBe('reservation_expired');
  });
});

describe('product cache when Redis is unreachable', () => {
  it('when Redis does not answer, then reads fall back to the database', async () => {
    app = await openTestApp({ BUILDFLOW_REDIS_URL: 'redis://127.0.0.1:1' });
    await addProduct(app, 'A', 5);
    expect(await app.getProduct('A')).toMatchObject({ sku: 'A', onHand: 5 });
    await adjustStock(app.units, 'A', { delta: 1, reason: 'count' });
    expect(await app.getProduct('A')).toMatchObject({ onHand: 6 });
  });
});
