import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { RunningProcess } from '../cli/harness.js';
import { BACKENDS } from '../helpers/backends.js';
import type { CellStorage } from '../helpers/cell-storage.js';
import { workerCrashCell } from '../helpers/worker-crash-cell.js';
import { waitFor } from '../helpers/webhook-receiver.js';
import { providerRows } from '../helpers/provider-books.js';

// The payment provider answers after 600 ms, so a kill lands while the batch is at pay; a killed
// worker's lease (4 payment calls, 2.4 s) then lapses and the next worker takes the message over.
const ENV = {
  BUILDFLOW_PAYMENT_LATENCY_MS: '600',
  BUILDFLOW_WORKER_LEASE_MS: '500',
  BUILDFLOW_REPUBLISH_AFTER_MS: '1000',
  BUILDFLOW_MAX_ATTEMPTS: '2',
  BUILDFLOW_LOG_LEVEL: 'warn',
  BUILDFLOW_ADMIN_KEY: 'step-crash-admin-key-0123456789',
};
const ORDERS = 12;

for (const backend of BACKENDS) describe(`a worker killed between steps [${backend}]`, () => {
  const cell = workerCrashCell(backend, 'buildflow-step-crash-', ENV);

  const statusCounts = async () => {
    const rows = await cell.storage().db.selectFrom('orders').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  };
  const pendingPayments = async () =>
    Number((await cell.storage().db.selectFrom('payments').select(sql<number>`count(*)`.as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()).n);

  /** Waits until every order is reserved and its payment row written (the batch is at pay, in the provider's call), then SIGKILLs. */
  async function killAtPay(worker: RunningProcess, what: string): Promise<void> {
    await waitFor(what, async () => (await statusCounts()).reserved === ORDERS && (await pendingPayments()) === ORDERS, 20_000);
    worker.child.kill('SIGKILL');
    await worker.exited;
  }

  it('when it is SIGKILLed at pay twice, then each order resumes at pay, counted against pay, and is charged, told and sold once', async () => {
    const db = cell.storage().db;
    await cell.placeOrders(ORDERS, 2);

    // First worker: reserve commits, then the kill lands inside pay's provider call.
    await killAtPay(cell.startWorker(), 'the first worker at pay');
    const held = await db.selectFrom('outbox').select(['topic', 'attempts', 'status']).execute();
    // The message still names reserve, the step its claim found: the run moved on in memory only.
    expect(held).toEqual(Array.from({ length: ORDERS }, () => ({ topic: 'reserve', attempts: 1, status: 'pending' })));

    // Second worker: its claim finds the orders reserved and moves the messages to pay, as their
    // first attempt there (the delivery that reserved them is not counted against pay).
    const second = cell.startWorker();
    await waitFor('the second worker to claim at pay', async () => {
      const rows = await db.selectFrom('outbox').select(['topic', 'attempts']).execute();
      return rows.length === ORDERS && rows.every((r) => r.topic === 'pay' && r.attempts === 1);
    }, 20_000);
    await killAtPay(second, 'the second worker at pay');

    // Third worker, with a fast provider: attempt 2 at pay is within BUILDFLOW_MAX_ATTEMPTS=2, so
    // every order completes; counted per message (3 deliveries) they would have been dead-lettered.
    const third = cell.startWorker({ BUILDFLOW_PAYMENT_LATENCY_MS: '0' });
    await waitFor('every order confirmed', async () => (await statusCounts()).confirmed === ORDERS, 30_000);
    expect(await third.stop()).toBe(0);

    expect(await statusCounts()).toEqual({ confirmed: ORDERS });
    expect(await db.selectFrom('outbox').selectAll().execute()).toEqual([]);
    const payments = await db.selectFrom('payments').select(['status', 'amount_cents']).execute();
    expect(payments).toEqual(Array.from({ length: ORDERS }, () => ({ status: 'captured', amount_cents: 2500 })));
    const notes = await db.selectFrom('notifications').select(['order_id', 'kind']).execute();
    expect(notes).toHaveLength(ORDERS);
    expect(new Set(notes.map((n) => n.order_id)).size).toBe(ORDERS);
    expect(notes.every((n) => n.kind === 'order_confirmed')).toBe(true);
    const movements = await db.selectFrom('stock_movements').select(['kind', sql<number>`count(*)`.as('n')]).where('order_id', 'is not', null).groupBy('kind').execute();
    expect(Object.fromEntries(movements.map((m) => [m.kind, Number(m.n)]))).toEqual({ reserve: ORDERS, sale: ORDERS });
    expect(await db.selectFrom('products').select(['on_hand', 'reserved']).where('sku', '=', 'KIT').executeTakeFirstOrThrow()).toEqual({ on_hand: 100 - 2 * ORDERS, reserved: 0 });

    // The provider saw each charge key once: the killed calls never reached it, the third worker's did.
    const charges = await providerCharges(cell.storage(), backend);
    expect(charges).toHaveLength(ORDERS);
    for (const c of charges) expect(c).toMatchObject({ outcome: 'captured', calls: 1 });
  });
});

async function providerCharges(storage: CellStorage, backend: string): Promise<{ outcome: string; calls: number }[]> {
  const rows = await providerRows<{ outcome: string; calls: number }>(storage, backend, 'select outcome, calls from simulated_charges');
  return rows.map((r) => ({ outcome: r.outcome, calls: Number(r.calls) }));
}
