import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, cancelAs, openTestApp, type TestApp } from '../helpers/test-app.js';
import { runUntilIdle, runUpTo } from '../helpers/pipeline.js';
import { getOrder } from '../../src/core/orders/queries.js';
import { getProduct } from '../../src/core/catalog/products.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';
import { moneyOf } from '../../src/core/payments/ledger.js';
import { requestShipmentUpdate } from '../../src/core/shipments/shipments.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.dispose();
  app = undefined;
});

const kindsOf = async (a: TestApp, orderId: string) =>
  (await a.db.selectFrom('payment_ledger').select(['kind', 'status']).where('order_id', '=', orderId).orderBy('id').execute()).map((r) => `${r.kind} ${r.status}`);
const movementsOf = async (a: TestApp, orderId: string) =>
  (await a.db.selectFrom('stock_movements').select('kind').where('order_id', '=', orderId).orderBy('id').execute()).map((r) => r.kind);

for (const backend of BACKENDS) describe(`cancel after payment [${backend}]`, () => {
  it('when a customer cancels a paid order, then the authorization is voided, the stock released and the customer told', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 5, 900);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    await runUpTo(a, 'confirm');
    expect((await getOrder(a.db, order.id)).status).toBe('paid');

    expect(await cancelAs(a, order.reference)).toMatchObject({ status: 'cancelled', cancelReason: 'customer_cancelled' });
    await runUntilIdle(a);
    expect((await getOrder(a.db, order.id)).status).toBe('cancelled');
    expect(await kindsOf(a, order.id)).toEqual(['authorization succeeded', 'void succeeded']);
    expect((await moneyOf(a.db, [order.id])).get(order.id)).toMatchObject({ authorizedCents: 1800, capturedCents: 0, voidedCents: 1800, refundedCents: 0 });
    expect(await a.db.selectFrom('payments').select('status').where('order_id', '=', order.id).executeTakeFirst()).toEqual({ status: 'voided' });
    expect(await getProduct(a.db, 'A')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(await movementsOf(a, order.id)).toEqual(['reserve', 'release']);
    expect((await a.db.selectFrom('notifications').select('kind').where('order_id', '=', order.id).execute()).map((n) => n.kind)).toEqual(['order_cancelled']);
    expect(await a.db.selectFrom('outbox').select('topic').execute()).toEqual([]);
  });

  it('when the admin cancels a confirmed order, then the capture is refunded, the sold stock put back and the shipment withdrawn; the customer may not', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 5, 900);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    await runUntilIdle(a);
    expect((await getOrder(a.db, order.id)).status).toBe('confirmed');
    await expect(cancelAs(a, order.id)).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELLABLE' });

    expect(await cancelAs(a, order.id, 'admin')).toMatchObject({ status: 'cancelled' });
    await runUntilIdle(a);
    expect(await kindsOf(a, order.id)).toEqual(['authorization succeeded', 'capture succeeded', 'refund succeeded']);
    expect((await moneyOf(a.db, [order.id])).get(order.id)).toMatchObject({ authorizedCents: 1800, capturedCents: 1800, refundedCents: 1800, voidedCents: 0 });
    expect(await a.db.selectFrom('payments').select('status').where('order_id', '=', order.id).executeTakeFirst()).toEqual({ status: 'refunded' });
    expect(await getProduct(a.db, 'A')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(await movementsOf(a, order.id)).toEqual(['reserve', 'sale', 'restock']);
    expect(await findStockDrift(a.db)).toEqual([]);
    expect(await a.db.selectFrom('shipments').select('order_id').execute()).toEqual([]);
    expect((await a.db.selectFrom('notifications').select('kind').where('order_id', '=', order.id).orderBy('id').execute()).map((n) => n.kind)).toEqual(['order_confirmed', 'order_cancelled']);
  });

  it('when a carrier update was accepted or the order shipped, then even the admin cannot cancel it and nothing changes', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 5, 900);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    await runUntilIdle(a);
    const { tracking_code } = await a.db.selectFrom('shipments').select('tracking_code').where('order_id', '=', order.id).executeTakeFirstOrThrow();
    await requestShipmentUpdate(a.units, tracking_code, 'shipped');
    await expect(cancelAs(a, order.id, 'admin')).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELLABLE' });
    await runUntilIdle(a);
    expect((await getOrder(a.db, order.id)).status).toBe('shipped');
    await expect(cancelAs(a, order.id, 'admin')).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELLABLE' });
    expect(await kindsOf(a, order.id)).toEqual(['authorization succeeded', 'capture succeeded']);
    expect(await movementsOf(a, order.id)).toEqual(['reserve', 'sale']);
  });

  it('when customer cancels race the pipeline\'s confirm, then for each order exactly one wins and money and stock match the winner', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_PAYMENT_LATENCY_MS: 3 }, {}, backend));
    await addProduct(a, 'A', 50, 1000);
    const orders = [];
    for (let i = 0; i < 8; i++) orders.push((await a.placeOrder({ items: [{ sku: 'A', quantity: 1 + (i % 3) }] })).order);
    await runUpTo(a, 'confirm');

    const cancels = orders.map(async (o, i) => {
      await new Promise((r) => setTimeout(r, i * 2));
      return cancelAs(a, o.id).then(
        () => true,
        (err: { code?: string }) => {
          if (err.code !== 'ORDER_NOT_CANCELLABLE') throw err;
          return false;
        },
      );
    });
    const [, won] = await Promise.all([runUntilIdle(a), Promise.all(cancels)]);
    await runUntilIdle(a);

    let sold = 0;
    const money = await moneyOf(a.db, orders.map((o) => o.id));
    for (const [i, o] of orders.entries()) {
      const status = (await getOrder(a.db, o.id)).status;
      const m = money.get(o.id)!;
      expect(m.pending).toEqual([]);
      expect(m.authorizedCents).toBe(o.totalCents);
      if (won[i]) {
        expect(status).toBe('cancelled');
        expect(m.refundedCents).toBe(m.capturedCents);
        expect(m.voidedCents).toBe(m.authorizedCents - m.capturedCents);
        expect(await movementsOf(a, o.id)).toEqual(['reserve', 'release']);
      } else {
        expect(status).toBe('confirmed');
        expect(m).toMatchObject({ capturedCents: o.totalCents, refundedCents: 0, voidedCents: 0 });
        expect(await movementsOf(a, o.id)).toEqual(['reserve', 'sale']);
        sold += o.totalCents / 1000;
      }
    }
    expect(await getProduct(a.db, 'A')).toMatchObject({ onHand: 50 - sold, reserved: 0 });
    expect(await findStockDrift(a.db)).toEqual([]);
    expect(await a.db.selectFrom('outbox').select('topic').execute()).toEqual([]);
  });
});
