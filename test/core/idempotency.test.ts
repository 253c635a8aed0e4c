import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { countRows } from '../helpers/pipeline.js';

let app: TestApp;
afterEach(async () => app?.dispose());

for (const backend of BACKENDS) describe(`order intake idempotency [${backend}]`, () => {
  it('when the same key and body arrive N times, then one order exists and every response is identical', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 10);
    const input = { items: [{ sku: 'A', quantity: 2 }], idempotencyKey: 'k-1' };
    const first = await app.placeOrder(input);
    const again = [];
    for (let i = 0; i < 5; i++) again.push(await app.placeOrder(input));
    expect(first.replayed).toBe(false);
    expect(again.every((r) => r.replayed)).toBe(true);
    expect(again.map((r) => r.order)).toEqual(Array(5).fill(first.order));
    expect(await countRows(app, 'orders')).toBe(1);
    expect(await countRows(app, 'outbox')).toBe(1);
  });

  it('when the same key arrives with a different body, then it is refused and nothing is written', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 10);
    await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }], idempotencyKey: 'k-2' });
    await expect(app.placeOrder({ items: [{ sku: 'A', quantity: 3 }], idempotencyKey: 'k-2' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(await countRows(app, 'orders')).toBe(1);
  });

  it('when 50 requests with one key arrive concurrently, then exactly one order is created and all see it', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 10);
    const a = app;
    const results = await Promise.all(Array.from({ length: 50 }, () => a.placeOrder({ items: [{ sku: 'A', quantity: 1 }], idempotencyKey: 'same' })));
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await countRows(app, 'orders')).toBe(1);
  });

  it('when one order in a batch is invalid, then its neighbours are still committed', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 10);
    const a = app;
    const results = await Promise.allSettled([
      a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] }),
      a.placeOrder({ items: [{ sku: 'NOPE', quantity: 1 }] }),
      a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'UNKNOWN_SKU' });
    expect(await countRows(app, 'orders')).toBe(2);
  });

  it('when quantities are out of range, then core refuses before writing', async () => {
    app = await openTestApp({ BUILDFLOW_MAX_ITEMS: 2 }, {}, backend);
    await addProduct(app, 'A', 10);
    for (const items of [[], [{ sku: 'A', quantity: 0 }], [{ sku: 'A', quantity: 1.5 }], [{ sku: 'A', quantity: 1e9 }], [{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 1 }, { sku: 'A', quantity: 1 }]]) {
      await expect(app.placeOrder({ items })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(await countRows(app, 'orders')).toBe(0);
  });
});
