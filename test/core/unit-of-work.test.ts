import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely, LogEvent } from 'kysely';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { claimDue, type OutboxMessage } from '../../src/core/outbox/outbox.js';
import { PipelineRunner } from '../../src/core/pipeline/pipeline-runner.js';
import { UnitRunner, type CommittedWork } from '../../src/core/db/unit-of-work.js';
import { openPostgres } from '../../src/core/db/postgres.js';
import { openSqlite } from '../../src/core/db/sqlite/sqlite.js';
import type { Database } from '../../src/core/db/schema.js';
import { silentLogger } from '../../src/worker/logger.js';
import { pauseStep, PauseReader, resumeStep } from '../../src/core/pipeline/pauses.js';

let app: TestApp;
let logged: Kysely<Database> | undefined;
afterEach(async () => {
  await logged?.destroy();
  logged = undefined;
  await app?.dispose();
});

/** A second connection to the app's database that records every statement it runs. */
function loggingDb(a: TestApp, statements: string[]): Kysely<Database> {
  const log = (e: LogEvent): void => void statements.push(e.query.sql);
  logged = a.config.databaseUrl ? openPostgres<Database>(a.config.databaseUrl, { log }) : openSqlite<Database>({ dataDir: a.dataDir, log });
  return logged;
}

function runnerOn(units: UnitRunner, a: TestApp): PipelineRunner {
  return new PipelineRunner({ units, gateway: a.gateway, reservationTtlMs: 60_000, maxAttempts: 5, logger: silentLogger, pauses: new PauseReader(a.db, 0) });
}

async function claimAll(a: TestApp): Promise<OutboxMessage[]> {
  return claimDue(a.db, { workerId: 't', limit: 1000, leaseMs: 60_000, now: Date.now() });
}

async function placeOrders(a: TestApp, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 2 }] })).id);
  return ids;
}

const insertsInto = (statements: string[], table: string): number => statements.filter((s) => s.startsWith(`insert into "${table}"`)).length;

for (const backend of BACKENDS) describe(`unit of work [${backend}]`, () => {
  it('when one batch carries its orders through every step, then each step writes each table in one statement, and a batch twice as large costs the same statements', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 100);
    await addProduct(app, 'B', 100);
    const statements: string[] = [];
    const runner = runnerOn(new UnitRunner(loggingDb(app, statements)), app);

    const perBatch: number[] = [];
    for (const n of [3, 6]) {
      await placeOrders(app, n);
      const reserves = await claimAll(app);
      expect(reserves.map((m) => m.topic)).toEqual(Array(n).fill('reserve'));
      statements.length = 0;
      await runner.run(reserves);
      // n orders through reserve, pay and confirm: each step's unit writes its n history rows in one
      // statement, reserve and confirm their 2n ledger rows in one each; no new message is written,
      // and the n messages are deleted with the confirmation.
      expect(insertsInto(statements, 'order_history')).toBe(3);
      expect(insertsInto(statements, 'stock_movements')).toBe(2);
      expect(insertsInto(statements, 'outbox')).toBe(0);
      expect(statements.filter((q) => q.startsWith('delete from "outbox"'))).toHaveLength(1);
      perBatch.push(statements.length);
      expect(await claimAll(app)).toEqual([]);
    }
    expect(perBatch[1]).toBe(perBatch[0]);
    const history = await app.db.selectFrom('order_history').select('to_status').where('to_status', '=', 'confirmed').execute();
    expect(history).toHaveLength(9);
  });

  it('when a unit commits, then its effects and hooks run after the commit; when it rolls back, then none runs', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 5);
    const units = new UnitRunner(app.db);
    const seen: string[] = [];
    units.onCommit((work) => void seen.push(`hook ${work.stockChanged.join(',')}`));

    await units.run(async (uow) => {
      await uow.trx.updateTable('products').set({ name: 'renamed' }).where('sku', '=', 'A').execute();
      uow.stockChanged(['A']);
      uow.afterCommit(async () => {
        // Another connection sees the change: the effect runs after the commit, not before.
        const row = await app.db.selectFrom('products').select('name').where('sku', '=', 'A').executeTakeFirstOrThrow();
        seen.push(`effect saw ${row.name}`);
      });
    });
    expect(seen).toEqual(['effect saw renamed', 'hook A']);

    seen.length = 0;
    await expect(
      units.run(async (uow) => {
        await uow.trx.updateTable('products').set({ name: 'never' }).where('sku', '=', 'A').execute();
        uow.stockChanged(['A']);
        uow.add('order_history', []);
        uow.afterCommit(() => void seen.push('effect'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([]);
    expect((await app.db.selectFrom('products').select('name').where('sku', '=', 'A').executeTakeFirstOrThrow()).name).toBe('renamed');
  });

  it('when orders are placed together, then the after-commit hooks of the deployment see each creation and its outbox message, and a replay adds nothing', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 100);
    const seen: CommittedWork[] = [];
    app.units.onCommit((work) => void seen.push(work));

    const placed = await Promise.all([1, 2, 3].map((q) => app.placeOrder({ items: [{ sku: 'A', quantity: q }], idempotencyKey: `k-${q}` })));
    const transitions = seen.flatMap((w) => w.transitions);
    expect(transitions.map((t) => t.orderId).sort()).toEqual(placed.map((p) => p.id).sort());
    for (const t of transitions) expect(t).toMatchObject({ from: null, to: 'pending', reason: null });
    expect(seen.reduce((n, w) => n + w.enqueued, 0)).toBe(3);

    seen.length = 0;
    const replayed = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }], idempotencyKey: 'k-1' });
    expect(replayed.replayed).toBe(true);
    expect(seen.flatMap((w) => w.transitions)).toEqual([]);
    expect(seen.reduce((n, w) => n + w.enqueued, 0)).toBe(0);
  });

  it('when one message makes a shared batch fail, then the batch is retried one message at a time and only that message fails', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 100);
    await addProduct(app, 'B', 100);
    const [first, culprit, last] = await placeOrders(app, 3);
    const runner = runnerOn(app.units, app);
    // The batch stops at a paused confirm; resumed, the same messages come back at confirm.
    await pauseStep(app.units, 'confirm');
    await runner.run(await claimAll(app));
    await resumeStep(app.units, 'confirm');
    const batch = await claimAll(app);
    expect(batch.map((m) => m.topic)).toEqual(['confirm', 'confirm', 'confirm']);
    // The culprit's shipment already exists, so the batch's one multi-row shipment insert fails.
    await app.db.insertInto('shipments').values({ order_id: culprit!, tracking_code: 'TRKCULPRIT00001', status: 'pending', created_at: 1, updated_at: 1 }).execute();

    await runner.run(batch);

    // The others' messages are done (so deleted); the culprit's waits for a retry at confirm.
    const rows = await app.db.selectFrom('outbox').select(['order_id', 'topic', 'status', 'attempts', 'last_error']).execute();
    expect(rows.map((r) => r.order_id)).toEqual([culprit!]);
    expect(rows[0]).toMatchObject({ topic: 'confirm', status: 'pending', attempts: 1 });
    expect(rows[0]!.last_error).toBeTruthy();
    const statuses = await app.db.selectFrom('orders').select(['id', 'status']).execute();
    expect(new Map(statuses.map((o) => [o.id, o.status]))).toEqual(new Map([[first!, 'confirmed'], [culprit!, 'paid'], [last!, 'confirmed']]));
  });
});

for (const backend of BACKENDS.filter((b) => b.startsWith('postgres'))) describe(`unit of work under lock conflicts [${backend}]`, () => {
  it('when two units deadlock, then Postgres aborts one and it runs again on a fresh unit: both commit, each once, and the hooks hear each once', async () => {
    app = await openTestApp({}, {}, backend);
    await addProduct(app, 'A', 10);
    await addProduct(app, 'B', 10);
    const heard: number[] = [];
    app.units.onCommit((work) => void heard.push(work.stockChanged.length));
    let runs = 0;
    // Each unit takes one product row, waits until the other holds its own, then wants the other's.
    let arrived = 0;
    let bothHold: () => void = () => {};
    const barrier = new Promise<void>((resolve) => (bothHold = resolve));
    const crossing = (first: string, second: string) =>
      app.units.run(async (uow) => {
        runs++;
        await uow.trx.updateTable('products').set((eb) => ({ on_hand: eb('on_hand', '+', 1) })).where('sku', '=', first).execute();
        if (++arrived === 2) bothHold();
        await barrier;
        await uow.trx.updateTable('products').set((eb) => ({ on_hand: eb('on_hand', '+', 1) })).where('sku', '=', second).execute();
        uow.stockChanged([first, second]);
      });
    await Promise.all([crossing('A', 'B'), crossing('B', 'A')]);
    expect(runs).toBe(3);
    const stock = await app.db.selectFrom('products').select(['sku', 'on_hand']).orderBy('sku').execute();
    expect(stock.map((p) => [p.sku, Number(p.on_hand)])).toEqual([['A', 12], ['B', 12]]);
    expect(heard).toEqual([2, 2]);
  }, 20_000);
});
