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
  /** Jobs (batches) this worker runs at once. */
  parallelBatches: number;
  leaseMs: number;
  /** How often this worker puts stalled jobs (of crashed or blocked workers) back on the queue. */
  stallCheckMs: number;
}

/**
 * The scale-out transport's consumer: each bee-queue job names a batch of outbox ids, which the
 * worker claims in the database in one statement (attempts counted there, a lease taken) and runs
 * through the same PipelineRunner as the embedded worker. Ids the database no longer offers (done,
 * dead, leased by a worker that got the same job) are skipped, so a duplicate job runs nothing.
 */
export class RedisConsumer {
  readonly id = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
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
    queue.process(this.options.parallelBatches, (job: BeeQueue.Job<JobData>) => this.track(this.runJob(job)));
    queue.checkStalledJobs(this.options.stallCheckMs, (err, stalled) => {
      if (err) this.logger.warn({ err: err.message }, 'stalled-job check failed');
      else if (stalled > 0) this.logger.warn({ stalled }, 'requeued stalled jobs');
    });
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => {});
    return p;
  }

  private async runJob(job: BeeQueue.Job<JobData>): Promise<void> {
    const ids = Array.isArray(job.data?.ids) ? job.data.ids.filter((id) => Number.isSafeInteger(id)) : [];
    if (ids.length === 0) return; // not ours: nothing to do
    this.running++;
    try {
      const messages = await claimDue(this.db, { ids, limit: ids.length, workerId: this.id, leaseMs: this.options.leaseMs, now: Date.now() });
      if (messages.length > 0) {
        await this.runner.run(messages);
        // Later messages (a refund) were committed; let this process's relay publish them now.
        this.signal.wake();
      }
    } catch (err) {
      // The database rows keep their state; the relay republishes them once the republish bound passes.
      this.logger.error({ err: (err as Error).message, count: ids.length }, 'batch failed');
      throw err;
    } finally {
      this.running--;
    }
  }

  /** True when no job is being run. */
  idle(): boolean {
    return this.running === 0;
  }

  /** Waits for the batches in hand (the queue itself is closed by its owner). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
