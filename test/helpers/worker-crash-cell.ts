import { afterAll, beforeAll, expect } from 'vitest';
import { assertBuilt, startCli, startServer, type RunningProcess } from '../cli/harness.js';
import type { Backend } from './backends.js';
import { openCellStorage, tearDownCell, type CellStorage } from './cell-storage.js';
import { upsertProduct } from '../../src/core/catalog/products.js';

/** One cell's deployment for killing workers: a `serve --no-worker` and workers started (and killed) by the test. */
export interface WorkerCrashCell {
  storage(): CellStorage;
  /** A `buildflow worker` (no sweeper) on the cell, with `extra` env over the cell's. */
  startWorker(extra?: Record<string, string>): RunningProcess;
  /** Places `count` orders of `quantity` KIT (12.50 each) as the admin; each must answer 201. */
  placeOrders(count: number, quantity: number): Promise<void>;
}

/**
 * Registers the cell's set-up and tear-down with the enclosing `describe`: fresh storage seeded
 * with 100 KIT at 12.50, and a server without workers, all with `env` (which names the admin key).
 */
export function workerCrashCell(backend: Backend, tmpPrefix: string, env: Record<string, string> & { BUILDFLOW_ADMIN_KEY: string }): WorkerCrashCell {
  let storage: CellStorage | undefined;
  let server: (RunningProcess & { url: string }) | undefined;
  let cellEnv: Record<string, string> = {};
  const workers: RunningProcess[] = [];

  beforeAll(async () => {
    assertBuilt();
    storage = await openCellStorage(backend, {
      tmpPrefix,
      async seed(app) {
        await upsertProduct(app.units, { sku: 'KIT', name: 'Kit', category: 'test', unitPriceCents: 1250, onHand: 100 });
      },
    });
    cellEnv = { ...env, ...storage.env };
    server = await startServer(storage.dir, ['--no-worker'], cellEnv);
  });

  afterAll(() => tearDownCell([...workers, server], storage));

  return {
    storage: () => storage!,
    startWorker(extra = {}) {
      const worker = startCli(['worker', '--data-dir', storage!.dir, '--no-sweeper'], { ...cellEnv, ...extra });
      workers.push(worker);
      return worker;
    },
    async placeOrders(count, quantity) {
      for (let i = 0; i < count; i++) {
        const res = await fetch(`${server!.url}/v1/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${env.BUILDFLOW_ADMIN_KEY}` },
          body: JSON.stringify({ items: [{ sku: 'KIT', quantity }] }),
        });
        expect(res.status).toBe(201);
        await res.arrayBuffer();
      }
    },
  };
}
