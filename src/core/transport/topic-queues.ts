import BeeQueue from 'bee-queue';
import { TOPICS, type Topic } from '../outbox/outbox.js';
import { DEFAULTS } from '../defaults.js';

/** What a job carries: the outbox row id is the job id; the database holds everything else. */
export interface JobData {
  orderId: string;
}

export interface TopicQueueOptions {
  url: string;
  /** Key prefix; every queue's keys are `<prefix>:bq:<topic>:…`. */
  prefix: string;
  /** Workers consume; a relay only publishes (no blocking connection, no stall checks). */
  worker: boolean;
  /**
   * A job whose worker has not reported within this window is put back on the queue by the
   * periodic stall check. bee-queue's default; a longer event-loop block than this can run a job
   * twice at once, which the database lease absorbs.
   */
  stallIntervalMs?: number;
  onError(err: Error, topic: Topic): void;
}

/** One bee-queue queue per pipeline step, all on one Redis. */
export class TopicQueues {
  readonly queues: ReadonlyMap<Topic, BeeQueue<JobData>>;

  constructor(options: TopicQueueOptions) {
    const queues = new Map<Topic, BeeQueue<JobData>>();
    for (const topic of TOPICS) {
      const queue = new BeeQueue<JobData>(topic, {
        // bee-queue needs its own connection (node-redis v3), so it is given the URL, not a client.
        redis: { url: options.url } as never,
        prefix: `${options.prefix}:bq`,
        isWorker: options.worker,
        // Nothing listens to job events; they would cost a publish per job and a connection per queue.
        getEvents: false,
        sendEvents: false,
        // The database keeps results, attempts and dead letters; Redis keeps only what is waiting.
        removeOnSuccess: true,
        removeOnFailure: true,
        stallInterval: options.stallIntervalMs ?? 5_000,
        activateDelayedJobs: false,
      });
      // An unhandled 'error' event would crash the process on the first Redis hiccup.
      queue.on('error', (err) => options.onError(err, topic));
      queues.set(topic, queue);
    }
    this.queues = queues;
  }

  /** The queue of a topic, if this version has one. */
  find(topic: string): BeeQueue<JobData> | undefined {
    return this.queues.get(topic as Topic);
  }

  /** Stops taking jobs, waits up to `timeoutMs` for those in hand, then closes the connections. */
  async close(timeoutMs: number = DEFAULTS.shutdown.workerDrainMs): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close(timeoutMs).catch(() => {})));
  }
}
