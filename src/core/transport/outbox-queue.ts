import BeeQueue from 'bee-queue';
import { DEFAULTS } from '../defaults.js';

/**
 * What a job carries: the ids of outbox rows a relay claimed together. The database holds
 * everything else; a worker claims the ids there before running them, so a job delivered twice,
 * or republished after Redis lost it, runs nothing twice.
 */
export interface JobData {
  ids: number[];
}

export interface OutboxQueueOptions {
  url: string;
  /** Key prefix; the queue's keys are `<prefix>:bq:outbox:…`. */
  prefix: string;
  /** Workers consume; a relay only publishes (no blocking connection, no stall checks). */
  worker: boolean;
  /**
   * A job whose worker has not reported within this window is put back on the queue by the
   * periodic stall check. bee-queue's default; a longer event-loop block than this can run a job
   * twice at once, which the database lease absorbs.
   */
  stallIntervalMs?: number;
  onError(err: Error): void;
}

/** The queue name under the prefix: one queue carries every step's messages, in batches. */
export const OUTBOX_QUEUE = 'outbox';

/**
 * The scale-out transport: one bee-queue queue on Redis whose jobs are batches of outbox ids. One
 * job costs about a dozen Redis commands whatever it carries, so a batch of a hundred orders costs
 * about a tenth of a command each.
 */
export class OutboxQueue {
  readonly queue: BeeQueue<JobData>;

  constructor(options: OutboxQueueOptions) {
    this.queue = new BeeQueue<JobData>(OUTBOX_QUEUE, {
      // bee-queue needs its own connection (node-redis v3), so it is given the URL, not a client.
      redis: { url: options.url } as never,
      prefix: `${options.prefix}:bq`,
      isWorker: options.worker,
      // Nothing listens to job events; they would cost a publish per job and a connection.
      getEvents: false,
      sendEvents: false,
      // The database keeps results, attempts and dead letters; Redis keeps only what is waiting.
      removeOnSuccess: true,
      removeOnFailure: true,
      stallInterval: options.stallIntervalMs ?? 5_000,
      activateDelayedJobs: false,
    });
    // An unhandled 'error' event would crash the process on the first Redis hiccup.
    this.queue.on('error', (err) => options.onError(err));
  }

  /** Stops taking jobs, waits up to `timeoutMs` for those in hand, then closes the connections. */
  async close(timeoutMs: number = DEFAULTS.shutdown.workerDrainMs): Promise<void> {
    await this.queue.close(timeoutMs).catch(() => {});
  }
}
