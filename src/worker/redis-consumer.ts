import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type BeeQueue from 'bee-queue';
import type { Database } from '../core/db/schema.js';
import { claimDue } from '../core/outbox/outbox.js';
import type { WakeSignal } from '../core/outbox/wake-signal.js';
import type { JobData, OutboxQueue } from '../core/transport/outbox-queue.js';
import type { Logger } from './logger.js';
import type { PipelineRunner } from '../core/pipeline/pipeline-runner.js';

export interface RedisConsumerOptions {
  /** Jobs taken from Redis at once; jobs that arrive together are run as one batch. */
  jobsInFlight: number;
  /**
   * Batches run at once. Jobs that arrive meanwhile wait and form the next batch, so a busy worker
   * runs few large batches instead of many small ones competing for the pool: a relay pass makes a
   * small job when orders trickle in, and their sizes must not set the worker's.
   */
  parallelBatches: number;
  /** Most outbox ids in one batch. */
  maxBatch: number;
  leaseMs: number;
  /** How often this worker puts stalled jobs (of crashed or blocked workers) back on the queue. */
  stallCheckMs: number;
}

interface Delivery {
  ids: number[];
  done(err?: unknown): void;
}

/**
 * The scale-out transport's consumer: each bee-queue job names a batch of outbox ids. Jobs that
 * arrive together are merged, their ids claimed in the database in one statement (attempts counted
 * there, a lease taken) and run through the same PipelineRunner as the embedded worker. Ids the
 * database no longer offers (done, dead, leased by a worker that got the same job) are skipped,
 * so a duplicate or republished job runs nothing twice.
 */
export class RedisConsumer {
  readonly id = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  private pending: Delivery[] = [];
  private flushScheduled = false;
  private running = 0;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly queues: OutboxQueue,
    private readonly runner: PipelineRunner,
    private readonly signal: WakeSignal,
    private readonly logger: Logger,
    private readonly options: RedisConsumerOptions,
  ) {}

  start(): void {
    const { queue } = this.queues;
    queue.process(this.options.jobsInFlight, (job: BeeQueue.Job<JobData>) => this.deliver(job));
    queue.checkStalledJobs(this.options.stallCheckMs, (err, stalled) => {
      if (err) this.logger.warn({ err: err.message }, 'stalled-job check failed');
      else if (stalled > 0) this.logger.warn({ stalled }, 'requeued stalled jobs');
    });
  }

  private deliver(job: BeeQueue.Job<JobData>): Promise<void> {
    const ids = Array.isArray(job.data?.ids) ? job.data.ids.filter((id) => Number.isSafeInteger(id)) : [];
    if (ids.length === 0) return Promise.resolve(); // not ours: nothing to do
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ids, done: (err) => (err ? reject(err) : resolve()) });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0 || this.running >= this.options.parallelBatches) return;
    this.flushScheduled = true;
    // Let the other jobs delivered in this turn of the event loop join the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      this.running++;
      const p = this.flush().finally(() => {
        this.running--;
        this.inFlight.delete(p);
        this.scheduleFlush();
      });
      this.inFlight.add(p);
    });
  }

  private async flush(): Promise<void> {
    const batch: Delivery[] = [];
    let size = 0;
    while (this.pending.length > 0 && (batch.length === 0 || size + this.pending[0]!.ids.length <= this.options.maxBatch)) {
      const d = this.pending.shift()!;
      batch.push(d);
      size += d.ids.length;
    }
    try {
      const ids = batch.flatMap((d) => d.ids);
      const messages = await claimDue(this.db, { ids, limit: ids.length, workerId: this.id, leaseMs: this.options.leaseMs, now: Date.now() });
      if (messages.length > 0) {
        await this.runner.run(messages);
        // Later messages (a refund) were committed; let this process's relay publish them now.
        this.signal.wake();
      }
      for (const d of batch) d.done();
    } catch (err) {
      // The database rows keep their state; the relay republishes them once the republish bound passes.
      this.logger.error({ err: (err as Error).message, count: size }, 'batch failed');
      for (const d of batch) d.done(err);
    }
  }

  /** True when no delivery is waiting for a batch or being run. */
  idle(): boolean {
    return this.running === 0 && this.pending.length === 0 && !this.flushScheduled;
  }

  /** Waits for the batches in hand (the queue itself is closed by its owner). */
  async drain(): Promise<void> {
    while (!this.idle()) {
      await Promise.all([...this.inFlight, new Promise((r) => setImmediate(r))]);
    }
  }
}
