import { afterEach, describe, expect, it } from 'vitest';
import { openTestApp, addProduct, type TestApp } from '../helpers/test-app.js';
import { startWorkers } from '../../src/worker/start-workers.js';
import { getOrder } from '../../src/core/orders/queries.js';

let app: TestApp;
afterEach(async () => app?.dispose());

describe('smoke', () => {
  it('carries an order to confirmed', async () => {
    app = await openTestApp();
    await addProduct(app, 'HAM-1', 5);
    const { order } = await app.placeOrder({ items: [{ sku: 'HAM-1', quantity: 2 }] });
    const workers = startWorkers(app);
    for (let i = 0; i < 100; i++) {
      const o = await getOrder(app.db, order.id);
      if (o.status === 'confirmed') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await workers.stop();
    const o = await getOrder(app.db, order.id);
    expect(o.status).toBe('confirmed');
    expect(o.trackingCode).toMatch(/^TRK/);
  });
});
