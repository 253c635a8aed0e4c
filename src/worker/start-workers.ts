import type { Buildflow } from '../core/buildflow.js';
import { silentLogger, type Logger } from './logger.js';
import { OutboxWorker } from './outbox-worker.js';
import { PipelineRunner } from './pipeline-runner.js';
import { SweeperLoop } from './sweeper-loop.js';

export interface WorkerOptions {
  /** Parallel claim loops; default from config (BUILDFLOW_WORKER_CONCURRENCY). */
  concurrency?: number;
  batchSize?: number;
  pollMs?: number;
  /** Run the sweeper too (default true). */
  sweeper?: boolean;
  logger?: Logger;
}

export interface RunningWorkers {
  worker: OutboxWorker;
  /** Stop taking work, finish what is in hand, then return. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts in-process pipeline workers (and the sweeper) on an opened deployment. */
export function startWorkers(app: Buildflow, options: WorkerOptions = {}): RunningWorkers {
  const logger = options.logger ?? silentLogger;
  const runner = new PipelineRunner({
    db: app.db,
    gateway: app.gateway,
    reservationTtlMs: app.config.reservationTtlMs,
    maxAttempts: app.config.maxAttempts,
    logger,
  });
  const worker = new OutboxWorker(app.db, app.signal, runner, logger, {
    batchSize: options.batchSize ?? 512,
    // Never shorter than a few payment calls, or a slow batch would be taken over while still running.
    leaseMs: Math.max(app.config.workerLeaseMs, app.config.payment.latencyMs * 4),
    pollMs: options.pollMs ?? 250,
  });
  worker.start(options.concurrency ?? app.config.workerConcurrency);
  const sweeper = options.sweeper === false ? undefined : new SweeperLoop(app.db, app.signal, logger, {
    intervalMs: app.config.sweepIntervalMs,
    stuckAfterMs: app.config.stuckAfterMs,
  });
  sweeper?.start();
  return {
    worker,
    async stop(timeoutMs) {
      await sweeper?.stop();
      await worker.stop(timeoutMs);
    },
  };
}
