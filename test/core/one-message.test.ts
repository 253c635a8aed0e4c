import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { runUntilIdle } from '../helpers/pipeline.js';
import { getOrder, orderHistory } from '../../src/core/orders/queries.js';
import { getProduct } from '../../src/core/catalog/products.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';
import { listDeadLetters } from '../../src/core/outbox/dead-letters.js';
import { pauseStep, resumeStep } from '../../src/core/pipeline/pauses.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.dispose();
  app = undefined;
});

/** The order's message, held at `step` by a pause, is made to have used up its attempts there. */
async function exhaustAt(a: TestApp, step: 'reserve' | 'pay' | 'confirm'): Promise<void> {
  const rows = await a.db.updateTable('outbox').set({ attempts: a.config.maxAttempts }).where('topic', '=', step).where('status', '=', 'pending').returning('id').execute();
  expect(rows).toHaveLength(1);
}

for (const backend of BACKENDS) describe(`one message carries an order [${backend}]`, () => {
  it('when an order goes through, then one message carried it, its notification was written with the transition, and the message is gone', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 5, 1000);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    expect(await a.db.selectFrom('outbox').select(['topic', 'order_id']).execute()).toEqual([{ topic: 'reserve', order_id: order.id }]);
    await runUntilIdle(a);
    expect((await getOrder(a.db, order.id)).status).toBe('confirmed');
    expect(await a.db.selectFrom('outbox').selectAll().execute()).toEqual([]);
    // The notification's row carries the confirmation's time: the same unit wrote both.
    const history = await orderHistory(a.db, order.id);
    const note = await a.db.selectFrom('notifications').select(['kind', 'created_at']).executeTakeFirstOrThrow();
    expect(note.kind).toBe('order_confirmed');
    expect(new Date(Number(note.created_at)).toISOString()).toBe(history.at(-1)!.at);
  });

  it.each([
    ['reserve', 'nothing (no stock was held, no money asked)'],
    ['pay', 'the reservation'],
    ['confirm', 'the reservation and the authorization'],
  ] as const)('when the message is dead-lettered at %s, then the order is cancelled failed and compensation undoes %s', async (step, _undone) => {
    const a = (app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 2 }, {}, backend));
    await addProduct(a, 'A', 5, 1000);
    const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 2 }] });
    // Hold the order's run at `step`, then make its next delivery there the one past the limit.
    await pauseStep(a.units, step);
    await runUntilIdle(a);
    await exhaustAt(a, step);
    await resumeStep(a.units, step);
    await runUntilIdle(a);

    expect(await getOrder(a.db, order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'failed' });
    const dead = await listDeadLetters(a.db);
    expect(dead.map((d) => [d.topic, d.orderId, d.attempts])).toEqual([[step, order.id, 3]]);
    expect(dead[0]!.lastError).toContain(`at ${step}`);

    // Stock: back where it was, with a release for every reservation made and no sale.
    expect(await getProduct(a.db, 'A')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(await findStockDrift(a.db)).toEqual([]);
    const kinds = (await a.db.selectFrom('stock_movements').select('kind').where('order_id', '=', order.id).orderBy('id').execute()).map((k) => k.kind);
    expect(kinds).toEqual(step === 'reserve' ? [] : ['reserve', 'release']);

    // Money: none asked at reserve or pay; at confirm, before its capture, the authorization was
    // voided (by its own message, now done).
    const payments = await a.db.selectFrom('payments').select('status').where('order_id', '=', order.id).execute();
    expect(payments).toEqual(step === 'confirm' ? [{ status: 'voided' }] : []);
    const ledger = await a.db.selectFrom('payment_ledger').select(['kind', 'status']).where('order_id', '=', order.id).orderBy('id').execute();
    expect(ledger).toEqual(step === 'confirm' ? [{ kind: 'authorization', status: 'succeeded' }, { kind: 'void', status: 'succeeded' }] : []);
    expect(await a.db.selectFrom('shipments').selectAll().execute()).toEqual([]);
    expect(await a.db.selectFrom('outbox').select('status').execute()).toEqual([{ status: 'dead' }]);
    expect((await a.db.selectFrom('notifications').select('kind').execute()).map((n) => n.kind)).toEqual(['order_cancelled']);
  });
});
