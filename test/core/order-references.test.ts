import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { orderReference } from '../../src/core/ids.js';

let app: TestApp;
afterEach(async () => app?.dispose());

for (const backend of BACKENDS) describe(`order references [${backend}]`, () => {
  it('when orders are placed together and one after another, then every reference is a distinct number, later orders getting higher ones', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 1000);
    const a = app;
    const together = await Promise.all(Array.from({ length: 300 }, () => a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] })));
    const after: string[] = [];
    for (let i = 0; i < 3; i++) after.push((await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] })).order.reference);
    const refs = [...together.map((r) => r.order.reference), ...after];
    expect(new Set(refs).size).toBe(303);
    for (const r of refs) expect(r).toMatch(/^BF-[0-9A-HJKMNP-TV-Z]{8}$/);
    const highestTogether = [...together.map((r) => r.order.reference)].sort().at(-1)!;
    expect(after[0]! > highestTogether).toBe(true);
    expect([...after].sort()).toEqual(after);
    // Looked up by reference, each gives its own order.
    const row = await app.db.selectFrom('orders').select('id').where('reference', '=', after[1]!).executeTakeFirstOrThrow();
    expect(row.id).toBeDefined();
  });

  it('when an older order already holds a reference the counter reaches, then that reference is passed over', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 10);
    const first = (await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] })).order;
    const n = Number.parseInt(first.reference.slice(3).replace(/^0+/, ''), 32);
    // Orders made before references were numbered carry random codes, which may equal a number's.
    const now = Date.now();
    for (const [id, k] of [['00000000-0000-7000-8000-000000000001', 1], ['00000000-0000-7000-8000-000000000003', 3]] as const) {
      await app.db
        .insertInto('orders')
        .values({ id, reference: orderReference(n + k), customer_id: null, status: 'cancelled', cancel_reason: 'customer_cancelled', total_cents: 100, item_count: 1, reservation_expires_at: null, created_at: now, updated_at: now })
        .execute();
    }
    const next = await Promise.all([0, 1, 2].map(() => app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] })));
    expect(next.map((r) => r.order.reference).sort()).toEqual([n + 2, n + 4, n + 5].map(orderReference));
  });
});
