import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteFile } from '../../src/core/db/sqlite/sqlite.js';
import { ThreadWriteLock } from '../../src/core/db/sqlite/thread-write-lock.js';
import { SqliteGroupCommit } from '../../src/core/db/sqlite/group-commit.js';
import type { OrderView } from '../../src/core/orders/order-view.js';
import { PLACE_ORDERS, type OrderOutcome, type OrderRequest } from '../../src/core/orders/place-orders.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { countRows } from '../helpers/pipeline.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const COMMIT_THREAD = new URL('../../src/core/commit-thread.ts', import.meta.url);

/** The SQLite commit engine on the app's file, with intake's program: the embedded intake's writer. */
function orderWriter(app: TestApp, lock = new ThreadWriteLock()) {
  const engine = new SqliteGroupCommit({ file: sqliteFile(app.dataDir), lock, entry: COMMIT_THREAD, announce: async () => {} });
  return Object.assign(engine, { place: (request: OrderRequest) => engine.submit(PLACE_ORDERS, request) });
}

describe('thread write lock', () => {
  it('when another thread holds the lock, then acquiring waits without blocking the event loop and goes on once it is released', async () => {
    const main = new ThreadWriteLock();
    const other = new ThreadWriteLock(2, main.buffer);
    await other.acquire();
    let acquired = false;
    const waiting = main.acquire().then(() => (acquired = true));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await sleep(60);
    clearInterval(timer);
    expect(acquired).toBe(false);
    expect(ticks).toBeGreaterThan(3);
    other.release();
    await waiting;
    expect(acquired).toBe(true);
    main.release();
  });

  it('when a dead holder is named, then only its hold is dropped', async () => {
    const main = new ThreadWriteLock();
    const writer = new ThreadWriteLock(2, main.buffer);
    await main.acquire();
    main.releaseHeldBy(2);
    let second = false;
    void writer.acquire().then(() => (second = true));
    await sleep(20);
    expect(second).toBe(false);
    main.release();
    await sleep(20);
    expect(second).toBe(true);
    main.releaseHeldBy(2);
    await main.acquire();
    main.release();
  });
});

describe('SQLite commit thread', () => {
  let app: TestApp;
  let writer: ReturnType<typeof orderWriter> | undefined;
  afterEach(async () => {
    await writer?.close();
    await app?.dispose();
  });

  it('when orders arrive together, then the thread commits them and answers each with its own order', async () => {
    app = await openTestApp();
    await addProduct(app, 'A', 100, 250);
    const w = (writer = orderWriter(app));
    const outcomes = await Promise.all([1, 2, 3, 4].map((q) => w.place({ items: [{ sku: 'A', quantity: q }] })));
    expect(outcomes.map((o) => (o.ok ? (JSON.parse(o.order.json) as OrderView).totalCents : o.code))).toEqual([250, 500, 750, 1000]);
    expect(await countRows(app, 'orders')).toBe(4);
    expect(await countRows(app, 'outbox')).toBe(4);
    const refused = await w.place({ items: [{ sku: 'NOPE', quantity: 1 }] });
    expect(refused).toMatchObject({ ok: false, code: 'UNKNOWN_SKU' });
  });

  it('when the writer is closed right after orders are placed, then those orders are still committed and answered, and no thread is left', async () => {
    app = await openTestApp();
    await addProduct(app, 'A', 100);
    const w = orderWriter(app);
    await w.place({ items: [{ sku: 'A', quantity: 1 }] });
    const placed = [w.place({ items: [{ sku: 'A', quantity: 2 }] }), w.place({ items: [{ sku: 'A', quantity: 3 }] })];
    await w.close();
    expect((await Promise.all(placed)).map((o) => o.ok)).toEqual([true, true]);
    expect(await countRows(app, 'orders')).toBe(3);
    await new Promise((r) => setImmediate(r));
    expect((w as unknown as { worker: Worker | undefined }).worker).toBeUndefined();
  });

  it('when a script places an order and closes the deployment with nothing else keeping it alive, then the order is answered, close returns, and the process exits 0', async () => {
    const run = await runEmbeddingScript([
      `const placed = await app.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });`,
      `console.log('placed', placed.order.status);`,
      `await app.close();`,
      `console.log('closed');`,
    ]);
    expect(run.stdout.trim().split('\n'), run.stderr).toEqual(['placed pending', 'closed']);
    expect(run.code, run.stderr).toBe(0);
  }, 90_000);

  it('when a script closes the deployment while its orders are still being committed, then every order is answered before close returns, and the process exits 0', async () => {
    // The last batch's reply arrives after close began: it must not let the process go while the thread is closing.
    const run = await runEmbeddingScript([
      `const placing = Array.from({ length: 40 }, (_, i) => app.placeOrder({ items: [{ sku: 'A', quantity: 1 }], idempotencyKey: 'k-' + i }));`,
      `const settled = Promise.allSettled(placing);`,
      `await app.close();`,
      `const outcomes = await settled;`,
      `console.log('closed', outcomes.filter((o) => o.status === 'fulfilled').length);`,
    ], 5, 40);
    expect(run.stdout.trim().split('\n'), run.stderr).toEqual(Array.from({ length: 5 }, () => 'closed 40'));
    expect(run.code, run.stderr).toBe(0);
  }, 120_000);

  it('when the thread dies with orders in flight, then those fail as UNAVAILABLE, the lock is free, and the next order starts a new thread', async () => {
    app = await openTestApp();
    await addProduct(app, 'A', 1000);
    const lock = new ThreadWriteLock();
    const w = (writer = orderWriter(app, lock));
    await w.place({ items: [{ sku: 'A', quantity: 1 }] });
    const inFlight = Array.from({ length: 200 }, (_, i) => w.place({ items: [{ sku: 'A', quantity: 1 }], idempotencyKey: `k-${i}`, hash: `h-${i}` }));
    await (w as unknown as { worker: Worker }).worker.terminate();
    const settled = await Promise.allSettled(inFlight);
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect((f as PromiseRejectedResult).reason).toMatchObject({ code: 'UNAVAILABLE' });
    for (const s of settled) if (s.status === 'fulfilled') expect((s.value as OrderOutcome).ok).toBe(true);

    await lock.acquire();
    lock.release();
    const after = await w.place({ items: [{ sku: 'A', quantity: 1 }] });
    expect(after.ok).toBe(true);
    // A retry with its key gives a failed order exactly one order, committed before the thread died or now.
    const retried = await w.place({ items: [{ sku: 'A', quantity: 1 }], idempotencyKey: 'k-199', hash: 'h-199' });
    expect(retried.ok).toBe(true);
    const again = await w.place({ items: [{ sku: 'A', quantity: 1 }], idempotencyKey: 'k-199', hash: 'h-199' });
    expect(again).toMatchObject({ ok: true, replayed: true });
    if (again.ok && retried.ok) expect(again.order.id).toBe(retried.order.id);
  });
});

/**
 * Runs `body` in a process of its own, as an embedding script runs (under vitest something else
 * always keeps the loop alive), `times` times over, each on a fresh deployment with product A in stock.
 */
async function runEmbeddingScript(body: string[], times = 1, stock = 5): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'buildflow-embed-'));
  try {
    const src = (path: string) => JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);
    const script = [
      `const { loadConfig } = await import(${src('core/config.ts')});`,
      `const { openBuildflow } = await import(${src('core/buildflow.ts')});`,
      `const { upsertProduct } = await import(${src('core/catalog/products.ts')});`,
      `for (let round = 0; round < ${times}; round++) {`,
      `const app = await openBuildflow(loadConfig({ BUILDFLOW_DATA_DIR: ${JSON.stringify(join(dir, 'data'))} + '-' + round, BUILDFLOW_LOG_LEVEL: 'silent' }, {}), { migrate: true });`,
      `await upsertProduct(app.units, { sku: 'A', name: 'A', category: 'x', unitPriceCents: 100, onHand: ${stock} });`,
      ...body,
      `}`,
    ].join('\n');
    const tsThreads = fileURLToPath(new URL('../helpers/ts-threads.mjs', import.meta.url));
    // A file, not --eval: the commit thread inherits the process's flags, and --input-type would stop it.
    const file = join(dir, 'embed.mjs');
    writeFileSync(file, script);
    return await new Promise((resolve) => {
      execFile(process.execPath, ['--import', tsThreads, file], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
