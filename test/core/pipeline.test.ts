import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, cancelAs, openTestApp, type TestApp } from '../helpers/test-app.js';
import { countRows, makeAllDue, manualWorker, runUntilIdle } from '../helpers/pipeline.js';
import { getOrder, orderHistory } from '../../src/core/orders/queries.js';
import { getProduct } from '../../src/core/catalog/products.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';
import { listDeadLetters, redriveDeadLetter } from '../../src/core/outbox/dead-letters.js';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';
import { pauseStep, resumeStep } from '../../src/core/pipeline/pauses.js';

let app: TestApp;
afterEach(async () => app?.dispose());

for (const backend of BACKENDS) describe(`pipeline [${backend}]`, () => {
  it('when an order is placed, then it is reserved, paid, confirmed, shipped-pending and notified with a reconciled ledger', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'DRILL', 5, 5000);
    await addProduct(app, 'BITS', 10, 800);
    const { order } = await app.placeOrder({ items: [{ sku: 'DRILL', quantity: 1 }, { sku: 'BITS', quantity: 2 }, { sku: 'DRILL', quantity: 1 }] });
    expect(order.status).toBe('pending');
    expect(order.totalCents).toBe(2 * 5000 + 2 * 800);

    await runUntilIdle(app);

    const final = await getOrder(app.db, order.reference);
    expect(final.status).toBe('confirmed');
    expect(final.trackingCode).toMatch(/^TRK[0-9A-Z]{12}$/);
    expect((await orderHistory(app.db, order.id)).map((h) => h.to)).toEqual(['pending', 'reserved', 'paid', 'confirmed']);
    expect(await getProduct(app.db, 'DRILL')).toMatchObject({ onHand: 3, reserved: 0, available: 3 });
    expect(await getProduct(app.db, 'BITS')).toMatchObject({ onHand: 8, reserved: 0 });
    expect(await findStockDrift(app.db)).toEqual([]);
    const notes = await app.db.selectFrom('notifications').selectAll().execute();
    expect(notes.map((n) => n.kind)).toEqual(['order_confirmed']);
    expect(notes[0]!.message).toContain(order.reference);
    const payment = await app.db.selectFrom('payments').selectAll().where('order_id', '=', order.id).executeTakeFirstOrThrow();
    expect(payment).toMatchObject({ status: 'captured', amount_cents: order.totalCents });
  });

  it('when stock is short for one line, then nothing is reserved and the order is cancelled out_of_stock', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    await addProduct(app, 'B', 1);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 2 }] });
    await runUntilIdle(app);
    const final = await getOrder(app.db, order.id);
    expect(final).toMatchObject({ status: 'cancelled', cancelReason: 'out_of_stock' });
    expect(await getProduct(app.db, 'A')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(await countRows(app, 'stock_movements')).toBe(2); // the two initial-stock rows only
    expect((await orderHistory(app.db, order.id)).map((h) => [h.from, h.to, h.reason])).toEqual([
      [null, 'pending', undefined],
      ['pending', 'cancelled', 'out_of_stock'],
    ]);
    expect(await app.db.selectFrom('notifications').select('kind').execute()).toEqual([{ kind: 'order_cancelled' }]);
  });

  it('when payment is declined, then stock is released, the order cancelled with the reason and the customer notified', async () => {
    app = await openTestApp({ BUILDFLOW_PAYMENT_DECLINE_RATE: 1 }, {}, backend);
    await addProduct(app, 'A', 3);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    await runUntilIdle(app);
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'payment_declined' });
    expect(await getProduct(app.db, 'A')).toMatchObject({ onHand: 3, reserved: 0, available: 3 });
    const kinds = await app.db.selectFrom('stock_movements').select('kind').where('order_id', '=', order.id).orderBy('id').execute();
    expect(kinds.map((k) => k.kind)).toEqual(['reserve', 'release']);
    expect(await findStockDrift(app.db)).toEqual([]);
    const notes = await app.db.selectFrom('notifications').selectAll().execute();
    expect(notes.map((n) => [n.kind, n.message.includes('payment declined')])).toEqual([['order_cancelled', true]]);
    expect(await countRows(app, 'shipments')).toBe(0);
  });

  it('when a customer cancels a reserved order, then stock is released and the order cancelled', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 3);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    await pauseStep(app.units, 'pay', 'test');
    await runUntilIdle(app); // reserve; the order's message waits at the paused pay step
    expect(await getProduct(app.db, 'A')).toMatchObject({ reserved: 2 });
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'reserved' });
    const cancelled = await cancelAs(app, order.reference);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'customer_cancelled' });
    await resumeStep(app.units, 'pay');
    await runUntilIdle(app); // the order's message resumes, finds it cancelled and ends without a charge
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'cancelled' });
    expect(await getProduct(app.db, 'A')).toMatchObject({ onHand: 3, reserved: 0 });
    expect(await countRows(app, 'payments')).toBe(0);
    await expect(cancelAs(app, order.id)).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELLABLE' });
  });

  it('when an authorization is in flight, then a customer cancel wins and the authorization is voided once it answers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    app = await openTestApp({}, {}, backend);
    const slowGateway: PaymentGateway = {
      async authorize(req) {
        await gate;
        return app.gateway.authorize(req);
      },
      capture: (r) => app.gateway.capture(r),
      void: (r) => app.gateway.void(r),
      refund: (r) => app.gateway.refund(r),
    };
    await addProduct(app, 'A', 3);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    const worker = manualWorker(app, { gateway: slowGateway });
    const paying = worker.runOnce(); // reserve, then pay: writes the pending payment, then waits on the gateway
    for (let i = 0; i < 100 && (await countRows(app, 'payments')) === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await cancelAs(app, order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'customer_cancelled' });
    release();
    await paying;
    await runUntilIdle(app, { gateway: slowGateway });
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'cancelled' });
    expect(await getProduct(app.db, 'A')).toMatchObject({ onHand: 3, reserved: 0 });
    const ledger = await app.db.selectFrom('payment_ledger').select(['kind', 'status']).where('order_id', '=', order.id).orderBy('id').execute();
    expect(ledger).toEqual([
      { kind: 'authorization', status: 'succeeded' },
      { kind: 'void', status: 'succeeded' },
    ]);
  });

  it('when a step keeps failing, then after the attempt limit the message is dead-lettered and the order compensated', async () => {
    app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 3 }, {}, backend);
    let calls = 0;
    // Unreachable for the pay step's three attempts, back afterwards.
    const broken: PaymentGateway = {
      async authorize(req) {
        if (++calls <= 3) throw new Error('provider unreachable');
        return app.gateway.authorize(req);
      },
      capture: (r) => app.gateway.capture(r),
      void: (r) => app.gateway.void(r),
      refund: (r) => app.gateway.refund(r),
    };
    await addProduct(app, 'A', 3);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    for (let i = 0; i < 10; i++) {
      await runUntilIdle(app, { gateway: broken });
      await makeAllDue(app);
    }
    // Three attempts at pay, then the settling of the cancelled order's money asked once more
    // under the same key (the provider may have acted on a call whose answer was lost).
    expect(calls).toBe(4);
    const final = await getOrder(app.db, order.id);
    expect(final).toMatchObject({ status: 'cancelled', cancelReason: 'failed' });
    expect(await getProduct(app.db, 'A')).toMatchObject({ onHand: 3, reserved: 0 });
    expect(await findStockDrift(app.db)).toEqual([]);
    const dead = await listDeadLetters(app.db);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ topic: 'pay', orderId: order.id, attempts: 3, lastError: 'provider unreachable' });
    // The authorization was written pending before the provider failed, so the order's money was
    // settled: the authorization's answer learnt under its key, then voided; nothing is left pending.
    expect(await app.db.selectFrom('outbox').select(['topic', 'status']).where('status', '<>', 'dead').execute()).toEqual([]);
    expect(await app.db.selectFrom('payments').select('status').where('order_id', '=', order.id).execute()).toEqual([{ status: 'voided' }]);
    const ledger = await app.db.selectFrom('payment_ledger').select(['kind', 'status', 'amount_cents']).where('order_id', '=', order.id).orderBy('id').execute();
    expect(ledger.map((r) => [r.kind, r.status, Number(r.amount_cents)])).toEqual([
      ['authorization', 'succeeded', order.totalCents],
      ['void', 'succeeded', order.totalCents],
    ]);

    // Re-driving the dead letter is visible and safe: the order stays cancelled.
    await redriveDeadLetter(app.units, dead[0]!.id);
    expect(await listDeadLetters(app.db)).toHaveLength(0);
    await runUntilIdle(app);
    // The re-driven message really ran again (on Redis: was published again at once), did nothing and is gone.
    expect(await app.db.selectFrom('outbox').select(['status', 'attempts']).where('id', '=', dead[0]!.id).executeTakeFirst()).toBeUndefined();
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'failed' });
    await expect(redriveDeadLetter(app.units, 999_999)).rejects.toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND' });
  });

  it('when a message has already crashed its worker the maximum number of times, then it is dead-lettered without running', async () => {
    app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 2 }, {}, backend);
    await addProduct(app, 'A', 3);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    // Two claims whose workers died: attempts counted, lease lapsed.
    await app.db.updateTable('outbox').set({ attempts: 2, locked_until: 1 }).execute();
    await runUntilIdle(app);
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'failed' });
    expect(await getProduct(app.db, 'A')).toMatchObject({ onHand: 3, reserved: 0 });
    expect(await listDeadLetters(app.db)).toMatchObject([{ topic: 'reserve', attempts: 3 }]);
  });

  it('when a claimed message is left by a dead worker, then another worker takes it after the lease', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 3);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    // Claimed by a worker that then vanished, lease still running: nobody else may take it yet.
    await app.db.updateTable('outbox').set({ attempts: 1, locked_until: Date.now() + 60_000, locked_by: 'ghost' }).execute();
    expect(await runUntilIdle(app)).toBe(0);
    await app.db.updateTable('outbox').set({ locked_until: Date.now() - 1 }).execute();
    await runUntilIdle(app);
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'confirmed' });
  });
});
