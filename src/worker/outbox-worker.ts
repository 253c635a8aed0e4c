import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../core/db/schema.js';
import { claimDue } from '../core/outbox/outbox.js';
import type { WakeSignal } from '../core/outbox/wake-signal.js';
import type { Logger } from './logger.js';
import { DEFAULTS } from '../core/defaults.js';
import type { PipelineRunner } from '../core/pipeline/pipeline-runner.js';

export interface OutboxWorkerOptions {
  /** Messages claimed at once; one batch costs two commits, so bigger batches mean fewer syncs. */
  batchSize: number;
  /** How long a claim holds before another worker may take the message over. */
  leaseMs: number;
  /** Fallback poll when no wake-up comes (work from other processes, retries coming due). */
  pollMs: number;
}

/**
 * The embedded transport: the outbox table is the queue. Each loop claims due messages from the
 * database and runs them; several loops (and several processes) may share one database.
 */
export class OutboxWorker {
  readonly id = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly signal: WakeSignal,
    private readonly runner: PipelineRunner,
    private readonly logger: Logger,
    private readonly options: OutboxWorkerOptions,
  ) {}

  start(concurrency: number): void {
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop(`${this.id}-${i}`));
  }

  /** Claims and runs one batch; returns how many messages it handled. */
  async runOnce(loopId = this.id): Promise<number> {
    const messages = await claimDue(this.db, { workerId: loopId, limit: this.options.batchSize, leaseMs: this.options.leaseMs, now: Date.now() });
    if (messages.length > 0) await this.runner.run(messages);
    return messages.length;
  }

  private async loop(loopId: string): Promise<void> {
    while (!this.stopping) {
      try {
        if ((await this.runOnce(loopId)) === 0) await this.signal.wait(this.options.pollMs);
      } catch (err) {
        this.logger.error({ err: (err as Error).message, loop: loopId }, 'worker loop error; backing off');
        await this.signal.wait(this.options.pollMs);
      }
    }
  }

  /** Stops claiming and waits for the batches in hand to finish (up to `timeoutMs`). */
  async stop(timeoutMs: number = DEFAULTS.shutdown.workerDrainMs): Promise<void> {
    this.stopping = true;
    this.signal.wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.loops), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}
