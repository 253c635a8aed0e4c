import { Worker } from 'node:worker_threads';
import { BuildflowError } from '../../errors.js';
import { SequentialSlots } from '../../sequential-slots.js';
import { MAX_BATCH, type CommitEngine } from '../commit-engine.js';
import type { BatchProgram, CommittedWork } from '../unit-of-work.js';
import { COMMIT_THREAD_HOLDER, type CommitThreadData, type FromThread, type ThreadRequest, type ToThread } from './commit-protocol.js';
import type { ThreadWriteLock } from './thread-write-lock.js';

interface Waiter {
  resolve(answer: unknown): void;
  reject(err: unknown): void;
}

export interface SqliteGroupCommitOptions {
  /** The database file. */
  file: string;
  /** Shared with the main thread's connection to `file`. */
  lock: ThreadWriteLock;
  /** The thread's entry module: it calls serveBatchPrograms with the programs it serves (core/commit-thread.ts). */
  entry: URL;
  /** Runs the deployment's after-commit hooks for a unit the thread committed. */
  announce: (work: CommittedWork) => Promise<void>;
  maxBatch?: number;
}

/**
 * Commits batches on the embedded database from a thread of its own, in group-commit batches the
 * thread cuts itself. SQLite's work per request (B-tree inserts, the WAL write, checkpoints, the
 * fsync) is then done beside the main thread's HTTP work instead of in turns with it, which is
 * where most of intake's time went. The thread starts with the first request and is restarted if
 * it dies; requests in flight then fail as UNAVAILABLE (none was acknowledged, and a retry with
 * the same Idempotency-Key finds the order if it was committed after all).
 */
export class SqliteGroupCommit implements CommitEngine {
  private worker: Worker | undefined;
  private nextId = 0;
  private unsent: ThreadRequest[] = [];
  // Not a Map: see SequentialSlots for what a Map's churn cost intake.
  private readonly pending = new SequentialSlots<Waiter>();
  // Replies are answered in order, each after the hooks have seen its work; close() waits for the last.
  private answering = Promise.resolve();

  constructor(private readonly options: SqliteGroupCommitOptions) {}

  submit<Req, Out>(program: BatchProgram<Req, Out>, request: Req): Promise<Out> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const wasIdle = this.pending.empty;
      this.pending.set(id, { resolve: resolve as (answer: unknown) => void, reject });
      if (wasIdle && this.worker) this.holdOpen(this.worker);
      // The requests read from sockets in this turn of the loop go over in one message: each
      // message costs the thread about as much to receive as an order costs to insert.
      if (this.unsent.push({ id, program: program.name, request }) === 1) setImmediate(() => this.send());
    });
  }

  private send(): void {
    // close() may have sent them already.
    if (this.unsent.length === 0) return;
    const requests = this.unsent;
    this.unsent = [];
    this.start().postMessage({ requests } satisfies ToThread);
  }

  /** Ends the thread after the requests in flight, and any not yet handed over, are answered. */
  async close(): Promise<void> {
    if (this.unsent.length > 0) this.send();
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.holdOpen(worker);
    worker.postMessage({ close: true } satisfies ToThread);
    await exited;
    await this.answering;
  }

  /** Answers one reply's requests (taken from pending on arrival, so a thread that exits next fails none of them) once the hooks have seen its work. */
  private async answer(reply: FromThread, waiters: readonly (Waiter | undefined)[]): Promise<void> {
    if ('work' in reply) for (const work of reply.work) await this.options.announce(work);
    waiters.forEach((waiter, i) => {
      if (!waiter) return;
      if ('answers' in reply) waiter.resolve(reply.answers[i]);
      else waiter.reject(new BuildflowError('UNAVAILABLE', `the order could not be stored: ${reply.error}`));
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const { file, lock, entry, maxBatch = MAX_BATCH } = this.options;
    const workerData: CommitThreadData = { file, lock: lock.buffer, maxBatch };
    const worker = new Worker(entry, { workerData });
    worker.on('message', (reply: FromThread) => {
      const waiters = reply.ids.map((id) => this.pending.take(id));
      // What is left to do for them (hooks, answers) runs on this thread's own loop.
      this.holdOpen(worker);
      this.answering = this.answering.then(() => this.answer(reply, waiters));
    });
    const fail = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      // A thread that died inside a transaction would otherwise hold the lock for ever.
      lock.releaseHeldBy(COMMIT_THREAD_HOLDER);
      // Requests not yet handed over go to the next thread instead.
      const unsent = new Set(this.unsent.map((r) => r.id));
      for (const id of this.pending.ids()) {
        if (unsent.has(id)) continue;
        this.pending.take(id)!.reject(new BuildflowError('UNAVAILABLE', `the order could not be stored (${why}); retry with the same Idempotency-Key`));
      }
    };
    worker.on('error', (err) => fail(`commit thread failed: ${err.message}`));
    worker.on('exit', (code) => fail(`commit thread exited with code ${code}`));
    this.worker = worker;
    this.holdOpen(worker);
    return worker;
  }

  /**
   * The one rule for whether the thread keeps the process alive: while requests wait for it (a
   * script awaiting an order has nothing else that would) and while it closes (close() waits for
   * its exit); idle, it does not.
   */
  private holdOpen(worker: Worker): void {
    if (!this.pending.empty || worker !== this.worker) worker.ref();
    else worker.unref();
  }
}
