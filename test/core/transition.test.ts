import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { ORDER_STATUSES, canTransition, type OrderStatus } from '../../src/core/domain/order-status.js';
import { IllegalTransitionError, transition } from '../../src/core/orders/transition.js';

const PAIRS = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.map((to) => [from, to] as const));

for (const backend of BACKENDS) describe(`order transitions [${backend}]`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 1000);
  });
  afterAll(async () => app?.dispose());

  /** A fresh order put straight into `status` (no outbox work left for it). */
  async function orderIn(status: OrderStatus): Promise<string> {
    const { id } = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    await app.db.updateTable('outbox').set({ status: 'done' }).where('order_id', '=', id).execute();
    await app.db.updateTable('orders').set({ status, cancel_reason: status === 'cancelled' ? 'failed' : null }).where('id', '=', id).execute();
    return id;
  }

  it('when every pair of statuses is tried, then exactly the pairs of the state machine move the order (with a history row) and every other pair is refused before anything is written', async () => {
    const outcomes: string[] = [];
    for (const [from, to] of PAIRS) {
      const id = await orderIn(from);
      const historyBefore = await app.db.selectFrom('order_history').select('id').where('order_id', '=', id).execute();
      let moved: boolean | 'refused';
      try {
        const patch = to === 'cancelled' ? { cancel_reason: 'failed' as const } : {};
        moved = await app.units.run((uow) => transition(uow, id, from, to, { reason: 'test', patch }));
      } catch (err) {
        expect(err).toBeInstanceOf(IllegalTransitionError);
        moved = 'refused';
      }
      const order = await app.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow();
      const history = await app.db.selectFrom('order_history').select(['from_status', 'to_status']).where('order_id', '=', id).orderBy('id').execute();
      if (canTransition(from, to)) {
        expect(moved, `${from} → ${to}`).toBe(true);
        expect(order.status).toBe(to);
        expect(history.slice(historyBefore.length)).toEqual([{ from_status: from, to_status: to }]);
      } else {
        expect(moved, `${from} → ${to}`).toBe('refused');
        expect(order.status).toBe(from);
        expect(history).toHaveLength(historyBefore.length);
      }
      outcomes.push(`${from}>${to}:${moved}`);
    }
    // The table allows 9 of the 49 pairs.
    expect(outcomes.filter((o) => o.endsWith(':true'))).toHaveLength(9);
  });

  it('when the order is no longer in the expected status, then a legal transition changes nothing', async () => {
    const id = await orderIn('paid');
    expect(await app.units.run((uow) => transition(uow, id, 'reserved', 'paid'))).toBe(false);
    expect((await app.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('paid');
  });
});
