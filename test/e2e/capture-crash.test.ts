import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS } from '../helpers/backends.js';
import { providerRows } from '../helpers/provider-books.js';
import { waitFor } from '../helpers/webhook-receiver.js';
import { workerCrashCell } from '../helpers/worker-crash-cell.js';
import { findMoneyMismatches } from '../../src/core/payments/reconcile-money.js';

// The provider acts at once and answers 2 s later, so a kill can land after it captured and
// before the worker heard, that is before confirm's commit. The lease outlasts that wait, so the
// worker does not take its own message over meanwhile; the next worker waits it out.
const ENV = {
  BUILDFLOW_PAYMENT_LATENCY_MS: '0',
  BUILDFLOW_PAYMENT_ANSWER_DELAY_MS: '2000',
  BUILDFLOW_WORKER_LEASE_MS: '3000',
  BUILDFLOW_REPUBLISH_AFTER_MS: '1000',
  BUILDFLOW_MAX_ATTEMPTS: '3',
  BUILDFLOW_LOG_LEVEL: 'warn',
  BUILDFLOW_ADMIN_KEY: 'capture-crash-admin-key-0123456789',
};
const ORDERS = 6;
const TOTAL = 2 * 1250;

interface ProviderCapture {
  charge_key: string;
  outcome: string;
  amount_cents: number;
  calls: number;
}

for (const backend of BACKENDS) describe(`a worker killed between the provider's capture and confirm's commit [${backend}]`, () => {
  const cell = workerCrashCell(backend, 'buildflow-capture-crash-', ENV);

  const providerCaptures = async () =>
    (await providerRows<ProviderCapture>(cell.storage(), backend, `select charge_key, outcome, amount_cents, calls from simulated_operations where kind = 'capture'`)).map((r) => ({
      ...r,
      amount_cents: Number(r.amount_cents),
      calls: Number(r.calls),
    }));
  const ledgerCaptures = () => cell.storage().db.selectFrom('payment_ledger').select(['order_id', 'status', 'amount_cents', 'idempotency_key']).where('kind', '=', 'capture').execute();

  it('when SIGKILLed after the provider captured, then the retry under the same key moves no money: one capture row per order, one capture in the provider’s books', async () => {
    const db = cell.storage().db;
    await cell.placeOrders(ORDERS, 2);

    // The first worker authorizes, writes each capture's row pending, asks the provider, and is
    // killed while the provider's answer is on its way: the provider has captured every order.
    const first = cell.startWorker();
    await waitFor(
      'the provider to have captured every order while the ledger still waits for its answer',
      async () => {
        const captured = (await providerCaptures()).filter((c) => c.outcome === 'succeeded');
        if (captured.length < ORDERS) return false;
        const rows = await ledgerCaptures();
        return rows.length === ORDERS && rows.every((r) => r.status === 'pending');
      },
      30_000,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await ledgerCaptures()).map((r) => r.status)).toEqual(Array(ORDERS).fill('pending'));
    const paid = await db.selectFrom('orders').select('status').execute();
    expect(paid.map((o) => o.status)).toEqual(Array(ORDERS).fill('paid'));

    // The next worker, with a provider that answers at once, asks again under the same keys.
    const second = cell.startWorker({ BUILDFLOW_PAYMENT_ANSWER_DELAY_MS: '0' });
    await waitFor('every order confirmed', async () => {
      const rows = await db.selectFrom('orders').select('status').execute();
      return rows.every((o) => o.status === 'confirmed');
    }, 30_000);
    expect(await second.stop()).toBe(0);

    // Our ledger: one authorization and one capture per order, each succeeded, for the total.
    const ledger = await db
      .selectFrom('payment_ledger')
      .select(['order_id', 'kind', 'status', 'amount_cents'])
      .orderBy('order_id')
      .orderBy('id')
      .execute();
    const orders = await db.selectFrom('orders').select('id').orderBy('id').execute();
    expect(ledger.map((r) => [r.order_id, r.kind, r.status, Number(r.amount_cents)])).toEqual(
      orders.flatMap((o) => [
        [o.id, 'authorization', 'succeeded', TOTAL],
        [o.id, 'capture', 'succeeded', TOTAL],
      ]),
    );
    expect(await findMoneyMismatches(db)).toEqual([]);

    // The provider's books: one capture per order, asked again after the kill (a lapsed lease may
    // add a call, never a movement), and each authorization captured once, for its total.
    const captures = await providerCaptures();
    expect(captures).toHaveLength(ORDERS);
    for (const c of captures) {
      expect(c).toMatchObject({ outcome: 'succeeded', amount_cents: TOTAL });
      expect(c.calls).toBeGreaterThanOrEqual(2);
    }
    const charges = await providerRows<{ captured_cents: number; outcome: string }>(cell.storage(), backend, 'select captured_cents, outcome from simulated_charges');
    expect(charges.map((c) => [c.outcome, Number(c.captured_cents)])).toEqual(Array(ORDERS).fill(['captured', TOTAL]));
    const payments = await db.selectFrom('payments').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
    expect(payments.map((p) => [p.status, Number(p.n)])).toEqual([['captured', ORDERS]]);
  });
});
