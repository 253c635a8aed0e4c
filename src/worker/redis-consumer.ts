import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type BeeQueue from 'bee-queue';
import type { Database } from '../core/db/schema.js';
import { claimDue } from '../core/outbox/outbox.js';
import type { WakeSignal } from '../core/outbox/wake-signal.js';
import type { JobData, TopicQueues } from '../core/transport/topic-queues.js';
import type { Logger } from './logger.js';
import type { PipelineRunner } from '../core/pipeline/pipeline-runner.js';

export interface RedisConsumerOptions {
  /** Jobs each step queue runs at once; they are gathered into shared batches. */
  jobsPerQueue: number;
  /**
   * Batches run at once. Deliveries that arrive meanwhile wait and form the next batch, so a busy
   * worker runs few large transactions instead of many small ones competing for the pool.
   */
  parallelBatches: number;
  /** Most messages in one batch. */
  maxBatch: number;
  /**
   * How long a batch waits for more deliveries before it starts, unless it is full. bee-queue hands
   * jobs over one by one, so without a wait batches stay small and each pays a transaction's fixed
   * cost (and, on hot products, its turn at their row locks); a few ms cost little latency.
   */
  lingerMs?: number;
  leaseMs: number;
  /** How often this worker puts stalled jobs (of crashed or blocked workers) back on their queue. */
  stallCheckMs: number;
}

interface Delivery {
  id: number;
  done(err?: unknown): void;
}

/**
 * The scale-out transport's consumer: takes jobs from every step queue and runs them through the
 * same PipelineRunner as the embedded worker. Jobs that arrive together are claimed in the
 * database in one statement (attempts counted there, a lease taken) and run as one batch, so a
 * batch still costs two commits. A delivery the database no longer wants (done, dead, leased by
 * a worker that got a duplicate) is acknowledged without running anything.
 */
export class RedisConsumer {
  readonly id = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  private pending: Delivery[] = [];
  private flushScheduled = false;
  private running = 0;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly queues: TopicQueues,
    private readonly runner: PipelineRunner,
    private readonly signal: WakeSignal,
    private readonly logger: Logger,
    private readonly options: RedisConsumerOptions,
  ) {}

  start(): void {
    for (const [topic, queue] of this.queues.queues) {
      queue.process(this.options.jobsPerQueue, (job: BeeQueue.Job<JobData>) => this.deliver(job));
      queue.checkStalledJobs(this.options.stallCheckMs, (err, stalled) => {
        if (err) this.logger.warn({ topic, err: err.message }, 'stalled-job check failed');
        else if (stalled > 0) this.logger.warn({ topic, stalled }, 'requeued stalled jobs');
      });
    }
  }

  private deliver(job: BeeQueue.Job<JobData>): Promise<void> {
    const id = Number(job.id);
    if (!Number.isSafeInteger(id)) return Promise.resolve(); // not ours: nothing to do
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ id, done: (err) => (err ? reject(err) : resolve()) });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0 || this.running >= this.options.parallelBatches) return;
    this.flushScheduled = true;
    const start = (): void => {
      this.flushScheduled = false;
      this.running++;
      this.track(this.flush().finally(() => {
        this.running--;
        this.scheduleFlush();
      }));
    };
    // Let the other jobs that arrive meanwhile join the batch.
    const linger = this.options.lingerMs ?? 0;
    if (linger > 0 && this.pending.length < this.options.maxBatch) setTimeout(start, linger);
    else setImmediate(start);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.options.maxBatch);
    try {
      const ids = batch.map((d) => d.id);
      const messages = await claimDue(this.db, { ids, limit: ids.length, workerId: this.id, leaseMs: this.options.leaseMs, now: Date.now() });
      if (messages.length > 0) {
        await this.runner.run(messages);
        // Follow-up messages were committed; let this process's relay publish them now.
        this.signal.wake();
      }
      for (const d of batch) d.done();
    } catch (err) {
      // The database row keeps its state; the relay republishes it once the republish bound passes.
      this.logger.error({ err: (err as Error).message, count: batch.length }, 'batch failed');
      for (const d of batch) d.done(err);
    }
  }

  /** True when no delivery is waiting for a batch or being run. */
  idle(): boolean {
    return this.running === 0 && this.pending.length === 0 && !this.flushScheduled;
  }

  /** Waits for the batches in hand (the queues themselves are closed by their owner). */
  async drain(): Promise<void> {
    while (!this.idle()) {
      await Promise.all([...this.inFlight, new Promise((r) => setImmediate(r))]);
    }
  }
}
