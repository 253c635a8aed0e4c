import type { Kysely } from 'kysely';
import type { Database } from '../core/db/schema.js';
import type { WakeSignal } from '../core/outbox/wake-signal.js';
import { claimForPublishing, unpublish, type Publication } from '../core/outbox/publishing.js';
import type { OutboxQueue } from '../core/transport/outbox-queue.js';
import { withTimeout } from '../core/timeout.js';
import { DEFAULTS } from '../core/defaults.js';
import type { Logger } from './logger.js';

export interface RelayOptions {
  /** Rows published per statement. */
  batchSize: number;
  /** Most outbox ids one job carries: a claimed batch is split so that parallel workers share it. */
  idsPerJob?: number;
  /** Fallback poll when nothing in this process woke the relay (orders taken by other processes). */
  pollMs: number;
  republishAfterMs: number;
  /** Every job gets this timeout: a handler that hangs is failed in Redis; the database lease decides what happens next. */
  jobTimeoutMs: number;
  /** A publish that Redis does not confirm within this time is given up and retried on the next pass. */
  publishTimeoutMs?: number;
}

/**
 * The scale-out dispatch: claims unpublished outbox rows and hands them to the bee-queue queue in
 * batches, a job naming many outbox ids. Any number of relays may run; see claimForPublishing.
 */
export class OutboxRelay {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lastStaleCheck = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly queues: OutboxQueue,
    private readonly signal: WakeSignal,
    private readonly logger: Logger,
    private readonly options: RelayOptions,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Publishes one batch; returns how many rows it handed to Redis. */
  async publishOnce(): Promise<number> {
    const now = Date.now();
    const claim = { limit: this.options.batchSize, now, republishAfterMs: this.options.republishAfterMs };
    const rows = await claimForPublishing(this.db, claim);
    // Rows Redis may have lost: looked for a few times per republish bound, not on every pass.
    if (rows.length < claim.limit && now - this.lastStaleCheck >= Math.min(5_000, this.options.republishAfterMs / DEFAULTS.relay.staleChecksPerRepublish)) {
      this.lastStaleCheck = now;
      rows.push(...(await claimForPublishing(this.db, { ...claim, limit: claim.limit - rows.length, stale: true })));
    }
    if (rows.length === 0) return 0;
    const failed = await this.publish(rows);
    if (failed.length > 0) await unpublish(this.db, failed);
    return rows.length - failed.length;
  }

  private async publish(rows: readonly Publication[]): Promise<number[]> {
    const size = Math.max(1, this.options.idsPerJob ?? DEFAULTS.relay.idsPerJob);
    const jobs = [];
    for (let i = 0; i < rows.length; i += size) {
      jobs.push(this.queues.queue.createJob({ ids: rows.slice(i, i + size).map((r) => r.id) }).timeout(this.options.jobTimeoutMs));
    }
    const failed: number[] = [];
    try {
      const errors = await withTimeout(this.queues.queue.saveAll(jobs), this.options.publishTimeoutMs ?? DEFAULTS.relay.publishTimeoutMs, 'Redis');
      for (const [job, err] of errors) {
        failed.push(...job.data.ids);
        this.logger.warn({ count: job.data.ids.length, err: err.message }, 'publish failed; will retry');
      }
    } catch (err) {
      failed.push(...rows.map((r) => r.id));
      this.logger.warn({ count: rows.length, err: (err as Error).message }, 'publish failed; will retry');
    }
    return failed;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if ((await this.publishOnce()) < this.options.batchSize) await this.signal.wait(this.options.pollMs);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'relay error; backing off');
        await this.signal.wait(Math.max(this.options.pollMs, 500));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.signal.wake();
    await this.loop;
  }
}
