import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { makeAllDue, manualWorker, runUntilIdle } from '../helpers/pipeline.js';
import { sweep } from '../../src/core/pipeline/sweeper.js';
import { pauseStep, resumeStep } from '../../src/core/pipeline/pauses.js';
import { getOrder } from '../../src/core/orders/queries.js';
import { getProduct } from '../../src/core/catalog/products.js';
import { findStockDrift } from '../../src/core/catalog/reconcile.js';

let app: TestApp;
afterEach(async () => app?.dispose());

for (const backend of BACKENDS) describe(`sweeper [${backend}]`, () => {
  it('when a reservation expires before payment starts, then stock is released and the order cancelled reservation_expired', async () => {
    app = await openTestApp({ BUILDFLOW_RESERVATION_TTL_MS: 1000 }, {}, backend);
    await addProduct(app, 'A', 4);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 3 }] });
    await pauseStep(app.units, 'pay');
    await manualWorker(app).runOnce(); // reserve only; the order's message waits at pay
    expect(await getProduct(app.db, 'A')).toMatchObject({ reserved: 3 });
    // While pay is paused the reservation does not expire, however late it is.
    expect(await sweep(app.units, { now: Date.now() + 60_000, stuckAfterMs: 3_600_000 })).toEqual({ expired: 0, redriven: 0, stockChanged: [] });
    await resumeStep(app.units, 'pay');

    expect(await sweep(app.units, { now: Date.now(), stuckAfterMs: 3_600_000 })).toEqual({ expired: 0, redriven: 0, stockChanged: [] });
    expect(await sweep(app.units, { now: Date.now() + 2000, stuckAfterMs: 3_600_000 })).toEqual({ expired: 1, redriven: 0, stockChanged: ['A'] });

    await runUntilIdle(app); // the order's message, late at pay, finds the order cancelled and ends
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'reservation_expired' });
    expect(await getProduct(app.db, 'A')).toMatchObject({ onHand: 4, reserved: 0 });
    expect(await findStockDrift(app.db)).toEqual([]);
    expect(await app.db.selectFrom('payments').selectAll().execute()).toEqual([]);
  });

  it('when queued work is lost, then orders stuck past the bound are re-driven to a final state', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 4);
    const { order } = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    await pauseStep(app.units, 'pay');
    await manualWorker(app).runOnce(); // reserved; its message waits at pay
    await resumeStep(app.units, 'pay');
    await app.db.deleteFrom('outbox').execute(); // the transport lost everything

    expect((await sweep(app.units, { now: Date.now(), stuckAfterMs: 60_000 })).redriven).toBe(0); // not stuck long enough yet
    expect((await sweep(app.units, { now: Date.now() + 61_000, stuckAfterMs: 60_000 })).redriven).toBe(1);
    expect((await sweep(app.units, { now: Date.now() + 61_000, stuckAfterMs: 60_000 })).redriven).toBe(0); // work now queued
    await makeAllDue(app); // the sweep ran a minute "ahead"; bring its message back to the present
    await runUntilIdle(app);
    expect(await getOrder(app.db, order.id)).toMatchObject({ status: 'confirmed' });
    expect(await getProduct(app.db, 'A')).toMatchObject({ onHand: 3, reserved: 0 });
  });
});
