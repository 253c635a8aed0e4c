import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, usesPostgres } from '../helpers/backends.js';
import { sql } from 'kysely';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { getProduct } from '../../src/core/catalog/products.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.dispose();
  app = undefined;
});

async function statusCounts(a: TestApp): Promise<Record<string, number>> {
  const rows = await a.db.selectFrom('orders').select(['status', 'cancel_reason']).execute();
  const counts: Record<string, number> = {};
  for (const r of rows) {
    const k = r.cancel_reason ? `${r.status}:${r.cancel_reason}` : r.status;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

for (const backend of BACKENDS) describe(`no oversell under concurrency [${backend}]`, () => {
  it('when 200 orders race for 10 units with two workers, then exactly 10 get past reserve and the ledger reconciles', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'SCARCE', 10);
    const a = app;
    const placed = await Promise.all(Array.from({ length: 200 }, () => a.placeOrder({ items: [{ sku: 'SCARCE', quantity: 1 }] })));
    expect(new Set(placed.map((p) => p.order.id)).size).toBe(200);

    await Promise.all([runUntilIdle(a, { batchSize: 16 }), runUntilIdle(a, { batchSize: 16 })]);

    expect(await statusCounts(a)).toEqual({ confirmed: 10, 'cancelled:out_of_stock': 190 });
    expect(await getProduct(a.db, 'SCARCE')).toMatchObject({ onHand: 0, reserved: 0, available: 0 });
    expect(await findStockDrift(a.db)).toEqual([]);
    const reserves = await a.db.selectFrom('stock_movements').select('order_id').where('kind', '=', 'reserve').execute();
    expect(reserves).toHaveLength(10);
  });

  it('when random orders with random declines run over random stock, then stock never goes negative and always reconciles', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.array(fc.record({ p: fc.integer({ min: 0, max: 2 }), q: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.constantFrom(0, 0.3),
        async (stock, orders, declineRate) => {
          const a = await openTestApp({ BUILDFLOW_PAYMENT_DECLINE_RATE: declineRate }, {}, backend);
          try {
            for (const [i, s] of stock.entries()) await addProduct(a, `P${i}`, s);
            await Promise.all(orders.map((items) => a.placeOrder({ items: items.map(({ p, q }) => ({ sku: `P${p}`, quantity: q })) })));
            await runUntilIdle(a, { batchSize: 7 });

            expect(await findStockDrift(a.db)).toEqual([]);
            const rows = await a.db.selectFrom('orders').select(['id', 'status']).execute();
            expect(rows.every((r) => r.status === 'confirmed' || r.status === 'cancelled')).toBe(true);
            const sold = await a.db
              .selectFrom('order_items')
              .innerJoin('orders', 'orders.id', 'order_items.order_id')
              .select(['order_items.sku', 'order_items.quantity'])
              .where('orders.status', '=', 'confirmed')
              .execute();
            for (const [i, s] of stock.entries()) {
              const p = await getProduct(a.db, `P${i}`);
              const soldQty = sold.filter((r) => r.sku === `P${i}`).reduce((n, r) => n + r.quantity, 0);
              expect(p.reserved).toBe(0);
              expect(p.onHand).toBe(s - soldQty);
              expect(p.onHand).toBeGreaterThanOrEqual(0);
            }
          } finally {
            await a.dispose();
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it.skipIf(!usesPostgres(backend))(
    'when concurrent batches hold orders that list the same products in different orders, then no transaction deadlocks',
    async () => {
      app = await openTestApp({}, {}, backend);
      const a = app;
      for (let i = 0; i < 6; i++) await addProduct(a, `P${i}`, 10_000);
      // Lines in every order of the products, so batches taken in any order would lock rows in a cycle.
      const orders = Array.from({ length: 300 }, (_, i) => {
        const first = i % 6;
        return [first, (first + 1 + (i % 5)) % 6, (first + 3) % 6].map((p) => ({ sku: `P${p}`, quantity: 1 }));
      });
      await Promise.all(orders.map((items) => a.placeOrder({ items })));
      const deadlocks = async () => {
        await new Promise((r) => setTimeout(r, 1200)); // statistics are flushed about once a second
        await sql`select pg_stat_clear_snapshot()`.execute(a.db);
        const { rows } = await sql<{ n: number }>`select deadlocks as n from pg_stat_database where datname = current_database()`.execute(a.db);
        return Number(rows[0]!.n);
      };
      const before = await deadlocks();
      await Promise.all([runUntilIdle(a, { batchSize: 16 }), runUntilIdle(a, { batchSize: 16 }), runUntilIdle(a, { batchSize: 16 })]);
      expect(await statusCounts(a)).toEqual({ confirmed: 300 });
      expect(await deadlocks()).toBe(before);
      expect(await findStockDrift(a.db)).toEqual([]);
    },
  );
});
