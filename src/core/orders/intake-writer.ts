import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadWriteLock } from '../db/thread-write-lock.js';
import { BuildflowError } from '../errors.js';
import { SequentialSlots } from '../sequential-slots.js';
import { WRITER_HOLDER, type WriterData, type WriterReply, type WriterRequest } from './intake-writer-protocol.js';
import { MAX_ORDER_BATCH, type OrderOutcome, type OrderRequest } from './write-order-batch.js';

// The thread runs compiled JavaScript. Under the test runner this module is TypeScript source and
// its sibling is not runnable, so the build's copy is used (`npm test` builds first) — after
// checking that the build is not older than the source, or an edit to the order-writing code would
// silently not be what the embedded intake runs.
function threadEntry(): URL {
  const here = new URL('./intake-writer-thread.js', import.meta.url);
  if (!fileURLToPath(import.meta.url).endsWith('.ts')) return here;
  assertBuildIsCurrent(fileURLToPath(new URL('../', import.meta.url)), fileURLToPath(new URL('../../../dist/src/core/', import.meta.url)));
  return new URL('../../../dist/src/core/orders/intake-writer-thread.js', import.meta.url);
}

let checkedBuild = false;

/** Throws naming the first source file of core newer than its compiled copy (checked once per process). */
function assertBuildIsCurrent(srcDir: string, distDir: string): void {
  if (checkedBuild) return;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  for (const file of walk(srcDir)) {
    const built = join(distDir, relative(srcDir, file)).replace(/\.ts$/, '.js');
    const builtAt = existsSync(built) ? statSync(built).mtimeMs : -1;
    if (builtAt < statSync(file).mtimeMs) {
      throw new Error(`the embedded order writer runs the build in dist/, which is older than ${relative(process.cwd(), file)}: run \`npm run build\``);
    }
  }
  checkedBuild = true;
}

/**
 * Commits orders on the embedded database from a thread of its own, in group-commit batches
 * the thread cuts itself. SQLite's work per order (B-tree inserts, the WAL write, checkpoints,
 * the fsync) is then done beside the main thread's HTTP work instead of in turns with it, which
 * is where most of intake's time went. The thread starts with the first order and is restarted
 * if it dies; orders in flight then fail as UNAVAILABLE (none was acknowledged, and a retry with
 * the same Idempotency-Key finds the order if it was committed after all).
 */
export class IntakeWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private unsent: { id: number; request: OrderRequest }[] = [];
  // Not a Map: see SequentialSlots for what a Map's churn cost intake.
  private readonly pending = new SequentialSlots<{ resolve(o: OrderOutcome): void; reject(err: unknown): void }>();

  constructor(
    private readonly file: string,
    private readonly lock: ThreadWriteLock,
    private readonly maxBatch = MAX_ORDER_BATCH,
  ) {}

  /** Commits one order durably, with whatever others arrive at the same time. */
  place(request: OrderRequest): Promise<OrderOutcome> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // The orders read from sockets in this turn of the loop go over in one message: each
      // message costs the thread about as much to receive as an order costs to insert.
      if (this.unsent.push({ id, request }) === 1) setImmediate(() => this.send());
    });
  }

  private send(): void {
    // close() may have sent them already.
    if (this.unsent.length === 0) return;
    const orders = this.unsent;
    this.unsent = [];
    this.start().postMessage({ orders } satisfies WriterRequest);
  }

  /** Ends the thread after the orders in flight, and any not yet handed over, are answered. */
  async close(): Promise<void> {
    if (this.unsent.length > 0) this.send();
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true } satisfies WriterRequest);
    await exited;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const workerData: WriterData = { file: this.file, lock: this.lock.buffer, maxBatch: this.maxBatch };
    const worker = new Worker(threadEntry(), { workerData });
    // The thread must not keep the process alive; close() ends it in an orderly way.
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      reply.ids.forEach((id, i) => {
        const waiter = this.pending.take(id);
        if (!waiter) return;
        if ('outcomes' in reply) waiter.resolve(reply.outcomes[i]!);
        else waiter.reject(new BuildflowError('UNAVAILABLE', `the order could not be stored: ${reply.error}`));
      });
    });
    const fail = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      // A thread that died inside a transaction would otherwise hold the lock for ever.
      this.lock.releaseHeldBy(WRITER_HOLDER);
      // Orders not yet handed over go to the next thread instead.
      const unsent = new Set(this.unsent.map((o) => o.id));
      for (const id of this.pending.ids()) {
        if (unsent.has(id)) continue;
        this.pending.take(id)!.reject(new BuildflowError('UNAVAILABLE', `the order could not be stored (${why}); retry with the same Idempotency-Key`));
      }
    };
    worker.on('error', (err) => fail(`intake writer failed: ${err.message}`));
    worker.on('exit', (code) => fail(`intake writer exited with code ${code}`));
    this.worker = worker;
    return worker;
  }
}
