import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BuildflowError } from '../errors.js';
import type { BatchCommitter } from './intake.js';
import type { OrderOutcome, OrderRequest } from './write-order-batch.js';

/**
 * The compiled writer script, or undefined when running from TypeScript sources without a build
 * (a worker thread cannot load .ts): then intake commits in-process instead.
 */
export function intakeWriterScript(): URL | undefined {
  const candidates = [
    new URL('./intake-writer.js', import.meta.url),
    // Running from src/ (tests) after `npm run build`: use the compiled twin.
    new URL('../../../dist/src/core/orders/intake-writer.js', import.meta.url),
  ];
  return candidates.find((u) => u.pathname.endsWith('.js') && existsSync(fileURLToPath(u)));
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch that failed to commit has no durability to wait for; nobody may be listening.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Commits order batches on a dedicated thread with its own connection, so the event loop keeps
 * parsing requests and answering while SQLite inserts, commits and fsyncs. The next batch is sent
 * once the previous one has committed (what arrives meanwhile joins it: group commit), while the
 * previous one is still being fsynced.
 */
export function threadCommitter(dataDir: string, script: URL, clock: () => number = Date.now): BatchCommitter {
  let worker: Worker | undefined;
  let nextId = 0;
  interface Waiter {
    committed: Deferred<OrderOutcome[]>;
    durable: Deferred<void>;
  }
  const waiting = new Map<number, Waiter>();

  const failAll = (err: unknown) => {
    for (const w of waiting.values()) {
      w.committed.reject(err);
      w.durable.reject(err);
    }
    waiting.clear();
    worker = undefined;
  };

  type Reply = { id: number; outcomes: OrderOutcome[] } | { id: number; durable: boolean; error?: string };
  const start = (): Worker => {
    const w = new Worker(script, { workerData: { dataDir } });
    w.on('message', (reply: Reply) => {
      const waiter = waiting.get(reply.id);
      if (!waiter) return;
      if ('outcomes' in reply) {
        waiter.committed.resolve(reply.outcomes);
        return;
      }
      if (reply.durable) waiter.durable.resolve();
      else waiter.durable.reject(new BuildflowError('UNAVAILABLE', `orders could not be made durable: ${reply.error}`));
      waiting.delete(reply.id);
      // An idle writer must not keep the process alive.
      if (waiting.size === 0) w.unref();
    });
    w.on('error', (err) => failAll(new BuildflowError('UNAVAILABLE', `order writer failed: ${err.message}`)));
    w.on('exit', () => failAll(new BuildflowError('UNAVAILABLE', 'order writer stopped')));
    return w;
  };

  return {
    commit(batch: readonly OrderRequest[]) {
      worker ??= start();
      worker.ref();
      const id = nextId++;
      const waiter = { committed: deferred<OrderOutcome[]>(), durable: deferred<void>() };
      waiting.set(id, waiter);
      worker.postMessage({ id, batch, now: clock() });
      return { committed: waiter.committed.promise, durable: waiter.durable.promise };
    },
    async close() {
      const w = worker;
      if (!w) return;
      worker = undefined;
      w.removeAllListeners('exit');
      const exited = new Promise((r) => w.once('exit', r));
      w.ref();
      w.postMessage('close');
      await exited;
    },
  };
}
