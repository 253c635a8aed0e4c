import { afterEach, describe, expect, it } from 'vitest';
import { Migrator, sql } from 'kysely';
import { migrationProvider } from '../../src/core/db/migrations/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, cancelAs, openTestApp, type TestApp } from '../helpers/test-app.js';
import { makeAllDue, runUntilIdle } from '../helpers/pipeline.js';
import { collectStats, type StatsSource } from '../../src/core/stats/collect-stats.js';
import { foldGoneSlots, readCounters } from '../../src/core/stats/counters.js';
import { StatsService } from '../../src/core/stats/stats-service.js';
import { StockHealthMonitor } from '../../src/core/stats/stock-health.js';
import { WorkerHeartbeat } from '../../src/core/workers/worker-registry.js';
import { adjustStock } from '../../src/core/catalog/products.js';
import { cancelWithCompensation } from '../../src/core/cancellation/compensate.js';
import { startWorkers } from '../../src/worker/start-workers.js';
import { TOPICS } from '../../src/core/outbox/outbox.js';
import { isPostgres } from '../../src/core/db/postgres.js';
import type { PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';
import type { StatsSnapshot } from '../../src/core/stats/snapshot-types.js';
import { scriptedGateway as withAuthorize } from '../helpers/payment-gateway.js';

let app: TestApp | undefined;

/** A migrator like the app's own (src/core/db/migrate.ts), for stepping one migration down and up. */
async function migratorOf(a: TestApp): Promise<Migrator> {
  if (!isPostgres(a.db)) return new Migrator({ db: a.db, provider: migrationProvider });
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(a.db);
  return new Migrator({ db: a.db, provider: migrationProvider, migrationTableSchema: rows[0]!.schema });
}
afterEach(async () => {
  await app?.dispose();
  app = undefined;
});

/**
 * Declines charges of 20.00, always fails charges of 30.00 and fails the first charge of 40.00:
 * the amount tells the orders of the set-up apart.
 */
function scriptedGateway(): PaymentGateway {
  const failedOnce = new Set<string>();
  return withAuthorize(async ({ idempotencyKey, amountCents }) => {
    if (amountCents === 3000) throw new Error('provider down');
    if (amountCents === 4000 && !failedOnce.has(idempotencyKey)) {
      failedOnce.add(idempotencyKey);
      throw new Error('provider hiccup');
    }
    return { outcome: amountCents === 2000 ? 'declined' : 'authorized', providerRef: `ref-${idempotencyKey}` };
  });
}

function sourceOf(a: TestApp): StatsSource {
  return {
    db: a.db,
    storage: isPostgres(a.db) ? 'postgres' : 'sqlite',
    transport: a.config.redis.url ? 'redis' : 'local',
    version: 'test',
    stuckAfterMs: a.config.stuckAfterMs,
  };
}

/** The figures the counters stand for, counted the expensive way over the whole tables. */
async function countedTheSlowWay(a: TestApp) {
  const orders = await a.db.selectFrom('orders').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
  const reasons = await a.db
    .selectFrom('orders')
    .select(['cancel_reason', sql<number>`count(*)`.as('n')])
    .where('status', '=', 'cancelled')
    .groupBy('cancel_reason')
    .execute();
  const outbox = await a.db.selectFrom('outbox').select(['topic', 'status', sql<number>`count(*)`.as('n')]).groupBy(['topic', 'status']).execute();
  const reached = await a.db
    .selectFrom('order_history')
    .select(['to_status', sql<number>`count(distinct order_id)`.as('n')])
    .where('to_status', 'in', ['reserved', 'paid', 'confirmed'])
    .groupBy('to_status')
    .execute();
  const byStatus: Record<string, number> = {};
  for (const r of orders) byStatus[r.status] = Number(r.n);
  const ever = (status: string) => Number(reached.find((r) => r.to_status === status)?.n ?? 0);
  const byReason: Record<string, number> = {};
  for (const r of reasons) byReason[r.cancel_reason!] = Number(r.n);
  const perTopic = (status: string) => Object.fromEntries(TOPICS.map((t) => [t, Number(outbox.find((r) => r.topic === t && r.status === status)?.n ?? 0)]));
  const funnel = { reserved: ever('reserved'), paid: ever('paid'), confirmed: ever('confirmed') };
  // An order's run is one message: the work at an order step is the orders in the status it moves
  // on, and the runs that got through it are the orders that went past it (or that it ended).
  const pending = { ...perTopic('pending'), reserve: byStatus.pending ?? 0, pay: byStatus.reserved ?? 0, confirm: byStatus.paid ?? 0 };
  const passed = { reserve: funnel.reserved + (byReason.out_of_stock ?? 0), pay: funnel.paid + (byReason.payment_declined ?? 0), confirm: funnel.confirmed };
  return { byStatus, byReason, funnel, pending, done: passed, dead: perTopic('dead') };
}

/** The money totals summed over the whole payment ledger, in the snapshot's shape. */
async function moneyTheSlowWay(a: TestApp): Promise<StatsSnapshot['money']> {
  const rows = await a.db
    .selectFrom('payment_ledger')
    .select(['kind', 'status', sql<number>`sum(amount_cents)`.as('cents')])
    .groupBy(['kind', 'status'])
    .execute();
  const sum = (kind: string, status: string) => Number(rows.find((r) => r.kind === kind && r.status === status)?.cents ?? 0);
  const kinds = ['authorization', 'capture', 'void', 'refund'] as const;
  return {
    capturedCents: sum('capture', 'succeeded'),
    refundedCents: sum('refund', 'succeeded'),
    authorizedNotCapturedCents: sum('authorization', 'succeeded') - sum('capture', 'succeeded') - sum('void', 'succeeded'),
    byKind: Object.fromEntries(kinds.map((k) => [k, { succeededCents: sum(k, 'succeeded'), failedCents: sum(k, 'failed') }])) as StatsSnapshot['money']['byKind'],
  };
}

function figures(s: StatsSnapshot) {
  const perTopic = (k: 'pending' | 'succeeded' | 'dead', topics: readonly string[] = TOPICS) => Object.fromEntries(s.topics.filter((t) => topics.includes(t.topic)).map((t) => [t.topic, t[k]]));
  const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, n]) => n !== 0));
  const funnel = { reserved: s.counters.ordersReserved, paid: s.counters.ordersPaid, confirmed: s.counters.ordersConfirmed };
  // Done messages are deleted, so only the order steps' successes can be counted again from the tables.
  return { byStatus: nonZero(s.orders.byStatus), byReason: nonZero(s.orders.cancelledByReason), funnel, pending: perTopic('pending'), done: perTopic('succeeded', ['reserve', 'pay', 'confirm']), dead: perTopic('dead') };
}

for (const backend of BACKENDS) describe(`stats snapshot [${backend}]`, () => {
  it('when orders are confirmed, cancelled for each reason, dead-lettered, delayed and stuck, then every figure is exact', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 2 }, { gateway: scriptedGateway() }, backend));
    await addProduct(a, 'A', 100, 1000);
    await addProduct(a, 'B', 1, 500);
    const place = async (items: { sku: string; quantity: number }[]) => (await a.placeOrder({ items })).order;

    // Three confirmed, one out of stock, one declined, one whose payment always fails (dead letter).
    for (let i = 0; i < 3; i++) await place([{ sku: 'A', quantity: 1 }]);
    await place([{ sku: 'B', quantity: 2 }]);
    await place([{ sku: 'A', quantity: 2 }]);
    const dead = await place([{ sku: 'A', quantity: 3 }]);
    await runUntilIdle(a);
    await makeAllDue(a);
    await runUntilIdle(a);
    // Its compensation asks the provider, still down, about the authorization left pending: that
    // refund message fails too. Its retry is held an hour out, so a slow run does not reach its
    // last attempt before the snapshot (the only dead letter here is pay's).
    await a.db.updateTable('outbox').set({ available_at: Date.now() + 3_600_000 }).where('order_id', '=', dead.id).where('topic', '=', 'refund').where('status', '=', 'pending').execute();

    // One whose first charge fails: its retry is held an hour out, so it is delayed when measured.
    const delayed = await place([{ sku: 'A', quantity: 4 }]);
    await runUntilIdle(a);
    await a.db.updateTable('outbox').set({ available_at: Date.now() + 3_600_000 }).where('order_id', '=', delayed.id).where('status', '=', 'pending').execute();

    // Cancelled by the customer, and expired (the sweeper's cancellation, through the same code).
    const byCustomer = await place([{ sku: 'A', quantity: 1 }]);
    await cancelAs(a, byCustomer.id);
    const expired = await place([{ sku: 'A', quantity: 1 }]);
    await a.units.run((uow) => cancelWithCompensation(uow, expired.id, { reason: 'reservation_expired', allowedFrom: ['pending', 'reserved'] }));
    await runUntilIdle(a);

    // Stuck: pending for two minutes with its reserve message waiting (no worker ran since).
    const stuck = await place([{ sku: 'A', quantity: 1 }]);
    await a.db.updateTable('orders').set({ updated_at: Date.now() - 120_000 }).where('id', '=', stuck.id).execute();
    await a.db.updateTable('outbox').set({ available_at: Date.now() - 120_000 }).where('order_id', '=', stuck.id).execute();

    const now = Date.now();
    const s = await collectStats(sourceOf(a), now);

    expect(s.orders.byStatus).toEqual({ pending: 1, reserved: 1, paid: 0, confirmed: 3, shipped: 0, delivered: 0, cancelled: 5 });
    expect(s.orders.cancelledByReason).toEqual({ out_of_stock: 1, payment_declined: 1, reservation_expired: 1, customer_cancelled: 1, failed: 1 });
    // The funnel: the declined, dead-lettered and delayed orders were reserved but never paid;
    // the out-of-stock, customer-cancelled, expired and stuck ones never reserved.
    expect(s.counters).toEqual({ ordersPlaced: 10, ordersReserved: 6, ordersPaid: 3, ordersConfirmed: 3, ordersCancelled: 5 });
    // Money: three orders of 10.00 authorized and captured, one of 20.00 declined; the failing
    // providers' authorizations never answered, so they count nowhere. The same as the ledger's sums.
    expect(s.money).toEqual(await moneyTheSlowWay(a));
    expect(s.money).toMatchObject({ capturedCents: 3000, refundedCents: 0, authorizedNotCapturedCents: 0 });
    expect(s.money.byKind.authorization).toEqual({ succeededCents: 3000, failedCents: 2000 });
    expect(s.orders.stuck).toMatchObject({ count: { count: 1, capped: false }, byStatus: { pending: 1 }, stuckAfterMs: 60_000 });
    expect(s.orders.stuck.oldestAgeMs).toBeGreaterThanOrEqual(120_000);

    const topic = (t: string) => s.topics.find((x) => x.topic === t)!;
    // Reserve: six reserved and one out of stock went through it (the customer-cancelled and expired
    // orders never reached it: their messages found them cancelled and ended).
    expect(topic('reserve')).toMatchObject({ pending: 1, waiting: 1, delayed: 0, active: 0, dead: 0, succeeded: 7, failed: 0, capped: false });
    expect(topic('reserve').oldestWaitingMs).toBeGreaterThanOrEqual(120_000);
    // Pay: three captured and one declined succeeded; the 30.00 order failed twice (then dead), the 40.00 once.
    expect(topic('pay')).toMatchObject({ pending: 1, waiting: 0, delayed: 1, active: 0, dead: 1, succeeded: 4, failed: 3, oldestWaitingMs: null });
    expect(topic('confirm')).toMatchObject({ pending: 0, succeeded: 3, failed: 0, dead: 0 });
    expect(s.deadLetters.map((d) => [d.topic, d.orderId, d.attempts])).toEqual([['pay', dead.id, 2]]);
    expect(s.deadLetters[0]!.lastError).toBe('provider down');

    // Every counter equals the count over the whole tables.
    expect(figures(s)).toEqual(await countedTheSlowWay(a));

    const confirmed = await a.db.selectFrom('orders').select(['created_at', 'updated_at']).where('status', '=', 'confirmed').execute();
    const latencies = confirmed.map((r) => Number(r.updated_at) - Number(r.created_at)).sort((x, y) => x - y);
    expect(s.latency).toEqual({ windowMs: 60_000, samples: 3, samplesCapped: false, p50Ms: latencies[1], p95Ms: latencies[2], p99Ms: latencies[2] });
    expect(s.orders.recent.map((o) => o.id)).toEqual([stuck, expired, byCustomer, delayed].map((o) => o.id).concat(s.orders.recent.slice(4).map((o) => o.id)));
    expect(s.orders.recent[0]).toEqual({ id: stuck.id, reference: stuck.reference, status: 'pending', totalCents: 1000, createdAt: stuck.createdAt });
    expect(s.deployment).toMatchObject({ cell: backend, version: 'test', pid: process.pid });
    expect(s.workers).toEqual([]);
    expect(s.rates).toBeNull();
  });

  it('when the funnel migration meets history already there, then it back-fills it once, and later stages stay counted after a cancel', async () => {
    const a = (app = await openTestApp({}, { gateway: scriptedGateway() }, backend));
    await addProduct(a, 'A', 100, 1000);
    const place = async (quantity: number) => (await a.placeOrder({ items: [{ sku: 'A', quantity }] })).order;
    const migrator = await migratorOf(a);
    const reached = async () => Object.fromEntries([...(await readCounters(a.db))].filter(([k]) => k.startsWith('reached:')));

    // One confirmed order and one declined (20.00) in history; then 0011 undone, which drops its
    // counters. 0012 (the outbox's row trigger on Postgres), 0013, 0015 and 0016 go down and up with it, so
    // their ways back and forth are exercised too: the figures below must still hold.
    const confirmed = await place(1);
    await place(2);
    await runUntilIdle(a);
    const down = await migrator.migrateTo('0010-outbox-unpublished-index');
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual([
      ['0017-money-counters', 'Down', 'Success'],
      ['0016-returns', 'Down', 'Success'],
      ['0015-payment-ledger', 'Down', 'Success'],
      ['0014-discarded-dead-letters-and-rate-limits', 'Down', 'Success'],
      ['0013-one-message-per-order', 'Down', 'Success'],
      ['0012-outbox-stats-row-trigger', 'Down', 'Success'],
      ['0011-stats-funnel-counters', 'Down', 'Success'],
    ]);
    expect(await reached()).toEqual({});

    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();
    expect(await reached()).toEqual({ 'reached:reserved': 2, 'reached:paid': 1, 'reached:confirmed': 1 });

    // From here the triggers count: one more declined, and the confirmed order cancelled after all.
    await place(2);
    await runUntilIdle(a);
    const undone = await a.units.run((uow) => cancelWithCompensation(uow, confirmed.id, { reason: 'failed', allowedFrom: ['confirmed'] }));
    expect(undone).toEqual({ cancelled: true, from: 'confirmed' });
    await runUntilIdle(a);

    const s = await collectStats(sourceOf(a));
    expect(s.counters).toEqual({ ordersPlaced: 3, ordersReserved: 3, ordersPaid: 1, ordersConfirmed: 1, ordersCancelled: 3 });
    expect(s.orders.byStatus).toMatchObject({ confirmed: 0, cancelled: 3 });
    expect(figures(s)).toEqual(await countedTheSlowWay(a));
    // The money counters: back-filled by 0017 from the ledger 0015 rebuilt, then kept by its
    // triggers through the cancelled order's refund.
    expect(s.money).toEqual(await moneyTheSlowWay(a));
    expect(s.money).toMatchObject({ capturedCents: 1000, refundedCents: 1000, authorizedNotCapturedCents: 0 });

    // A ledger row altered by hand moves its cents with it, as the counters are the ledger's sums.
    await a.db.updateTable('payment_ledger').set({ amount_cents: 700 }).where('order_id', '=', confirmed.id).where('kind', '=', 'refund').execute();
    const altered = await collectStats(sourceOf(a));
    expect(altered.money).toEqual(await moneyTheSlowWay(a));
    expect(altered.money.refundedCents).toBe(700);
  });

  it('when the stock check runs in the background, then out-of-stock, low stock and a broken ledger are reported with their age', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_LOW_STOCK_MARK: 5, BUILDFLOW_STATS_STOCK_CHECK_MS: 1000 }, {}, backend));
    await addProduct(a, 'PLENTY', 100);
    await addProduct(a, 'FEW', 3);
    await addProduct(a, 'NONE', 0);
    const service = new StatsService(a, { minIntervalMs: 0, version: 'test' });
    try {
      await service.settled();
      const first = await service.snapshot();
      expect(first.stock).toMatchObject({
        lowStockMark: 5,
        outOfStock: { count: 1, capped: false },
        lowStock: { count: 2, capped: false },
        reconciliation: { status: 'ok', drifting: 0 },
      });
      expect(first.stock.reconciliation.ageMs).toBeGreaterThanOrEqual(0);

      // Stock changed behind the ledger's back: a check after the interval finds it.
      await a.db.updateTable('products').set({ on_hand: 101 }).where('sku', '=', 'PLENTY').execute();
      await new Promise((r) => setTimeout(r, 1100));
      await service.snapshot();
      await service.settled();
      const later = await service.snapshot();
      expect(later.stock.reconciliation).toMatchObject({ status: 'fail', drifting: 1 });
      expect(later.stock.reconciliation.detail).toContain('PLENTY');
    } finally {
      await service.close();
    }
  });

  it('when stock changes between two snapshots, then the out-of-stock and low counts are current at once, while the ledger check keeps its interval', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_LOW_STOCK_MARK: 5, BUILDFLOW_STATS_STOCK_CHECK_MS: 60_000 }, {}, backend));
    await addProduct(a, 'A', 10);
    const service = new StatsService(a, { minIntervalMs: 0, version: 'test' });
    try {
      await service.settled();
      expect((await service.snapshot()).stock).toMatchObject({ outOfStock: { count: 0 }, lowStock: { count: 0 } });
      const checkedAt = (await service.snapshot()).stock.reconciliation.checkedAt;
      await adjustStock(a.units, 'A', { delta: -10, reason: 'test' });
      const next = await service.snapshot();
      expect(next.stock).toMatchObject({ outOfStock: { count: 1, capped: false }, lowStock: { count: 1, capped: false } });
      expect(next.stock.reconciliation.checkedAt).toBe(checkedAt);
    } finally {
      await service.close();
    }
  });

  it('when work is due and no worker is registered, then the snapshot lists it as unattended; a live worker of its role attends it', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 10);
    await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
    const service = new StatsService(a, { minIntervalMs: 0, version: 'test' });
    try {
      const down = await service.snapshot();
      expect(down.unattended).toEqual([
        { role: 'steps', count: 1, what: 'pipeline messages', gone: [] },
        ...(a.config.redis.url ? [{ role: 'relay', count: 1, what: 'pipeline messages', gone: [] }] : []),
      ]);
      const heartbeat = new WorkerHeartbeat(a.db, { id: 'worker-test', roles: ['steps', 'relay'], transport: 'local', concurrency: 1, heartbeatMs: 5_000 }, () => 0);
      await heartbeat.start();
      try {
        expect((await service.snapshot()).unattended).toEqual([]);
      } finally {
        await heartbeat.stop();
      }
    } finally {
      await service.close();
    }
  });

  it('when snapshots are asked for within the interval, then the stock check does not run again', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 10);
    const monitor = new StockHealthMonitor(a.db, { lowStockMark: 5, intervalMs: 10_000 });
    const t0 = Date.now();
    expect(monitor.current(t0).reconciliation.status).toBe('pending');
    await monitor.settled();
    const checkedAt = monitor.current(t0 + 1).reconciliation.checkedAt;
    expect(checkedAt).not.toBeNull();
    await a.db.updateTable('products').set({ on_hand: 11 }).where('sku', '=', 'A').execute();
    monitor.current(t0 + 9_999);
    await monitor.settled();
    expect(monitor.current(t0 + 9_999).reconciliation).toMatchObject({ status: 'ok', checkedAt });
    monitor.current(t0 + 10_000);
    await monitor.settled();
    expect(monitor.current(t0 + 10_001).reconciliation).toMatchObject({ status: 'fail', drifting: 1 });
  });

  it('when many clients ask at once, then one snapshot is computed and shared, and rates come from successive snapshots', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    await addProduct(a, 'A', 100);
    const service = new StatsService(a, { minIntervalMs: 1000, version: 'test' });
    try {
      const t0 = Date.now();
      const all = await Promise.all(Array.from({ length: 20 }, () => service.snapshot(t0)));
      expect(new Set(all).size).toBe(1);
      expect(await service.snapshot(t0 + 999)).toBe(all[0]);
      for (let i = 0; i < 5; i++) await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
      const later = await service.snapshot(t0 + 2000);
      expect(later).not.toBe(all[0]);
      expect(later.counters.ordersPlaced).toBe(5);
      // Five orders over the 2 s since the first sample; no sample reaches back 10 s yet.
      expect(later.rates!.placed).toEqual({ '1s': 2.5, '10s': null, '60s': null });
    } finally {
      await service.close();
    }
  });

  it('when 1,000 orders are placed concurrently with workers running, then the counters equal the tables', async () => {
    const a = (app = await openTestApp({ BUILDFLOW_PAYMENT_DECLINE_RATE: 0.2 }, {}, backend));
    await addProduct(a, 'A', 300, 1000);
    await addProduct(a, 'B', 100_000, 250);
    const workers = startWorkers(a, { pollMs: 20 });
    try {
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) => a.placeOrder({ items: i % 2 === 0 ? [{ sku: 'A', quantity: 1 }] : [{ sku: 'B', quantity: 2 }] })),
      );
      const deadline = Date.now() + 120_000;
      for (;;) {
        const c = await readCounters(a.db);
        const busy = ['pending', 'reserved', 'paid'].reduce((n, st) => n + (c.get(`orders:${st}`) ?? 0), 0);
        const queued = TOPICS.reduce((n, t) => n + (c.get(`outbox:pending:${t}`) ?? 0), 0);
        if (busy === 0 && queued === 0) break;
        if (Date.now() > deadline) throw new Error(`pipeline not idle: ${JSON.stringify([...c])}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await workers.stop();
    }
    const s = await collectStats(sourceOf(a));
    const slow = await countedTheSlowWay(a);
    expect(figures(s)).toEqual(slow);
    expect(s.counters.ordersPlaced).toBe(1000);
    expect(s.counters.ordersConfirmed + s.counters.ordersCancelled).toBe(1000);
    expect(slow.byReason.out_of_stock).toBeGreaterThan(0);
    expect(slow.byReason.payment_declined).toBeGreaterThan(0);
    expect(s.counters.ordersReserved).toBeGreaterThan(s.counters.ordersPaid);

    // Folding the slots of closed connections changes no figure.
    await foldGoneSlots(a.db);
    expect(figures(await collectStats(sourceOf(a)))).toEqual(slow);
  }, 180_000);
});
