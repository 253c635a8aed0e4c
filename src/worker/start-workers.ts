import type { Buildflow } from '../core/buildflow.js';
import type { PaymentGateway } from '../core/pipeline/payment-gateway.js';
import { OutboxQueue } from '../core/transport/outbox-queue.js';
import { WorkerHeartbeat } from '../core/workers/worker-registry.js';
import { DEFAULTS } from '../core/defaults.js';
import { withTimeout } from '../core/timeout.js';
import { silentLogger, type Logger } from './logger.js';
import { OutboxRelay } from './outbox-relay.js';
import { OutboxWorker } from './outbox-worker.js';
import { PipelineRunner } from '../core/pipeline/pipeline-runner.js';
import { PauseReader } from '../core/pipeline/pauses.js';
import { RateLimit } from '../core/pipeline/rate-limit.js';
import { RedisConsumer } from './redis-consumer.js';
import { SweeperLoop } from './sweeper-loop.js';
import { startDeliveries } from './delivery-workers.js';

/** What a worker process does; all by default. */
export interface WorkerRoles {
  /** Run pipeline steps (from the outbox, or from Redis when BUILDFLOW_REDIS_URL is set). */
  steps: boolean;
  /** Publish outbox rows to Redis (scale-out only; ignored on the embedded transport). */
  relay: boolean;
  /** Re-drive stuck orders and expire reservations. */
  sweeper: boolean;
  /** Send webhook deliveries and customer emails (claimed from the database on either transport). */
  deliveries: boolean;
}

export interface WorkerOptions {
  /** Parallel batches; default from config (BUILDFLOW_WORKER_CONCURRENCY). */
  concurrency?: number;
  batchSize?: number;
  pollMs?: number;
  roles?: Partial<WorkerRoles>;
  logger?: Logger;
}

export interface RunningWorkers {
  /** Identifies this process's workers in leases and logs. */
  id: string;
  transport: 'local' | 'redis';
  roles: WorkerRoles;
  /** Resolves once the process is in the worker registry (stats, `buildflow dashboard`). */
  registered: Promise<void>;
  /** Stop taking work, finish what is in hand (at most `timeoutMs`, default DEFAULTS.shutdown.workerDrainMs), deregister, then return. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Registers the process's workers and heartbeats until stopped. A registry that cannot be written
 * (database away at start) is logged, not fatal: the heartbeat registers on its next tick.
 */
function startHeartbeat(app: Buildflow, id: string, roles: WorkerRoles, transport: string, concurrency: number, runner: PipelineRunner, logger: Logger) {
  const names = (Object.keys(roles) as (keyof WorkerRoles)[]).filter((r) => roles[r]);
  const heartbeat = new WorkerHeartbeat(
    app.db,
    { id, roles: names, transport, concurrency, heartbeatMs: app.config.stats.heartbeatMs },
    () => runner.handled,
    (err) => logger.warn({ err: (err as Error).message }, 'worker heartbeat failed'),
  );
  const registered = heartbeat.start().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'worker registration failed'));
  return {
    registered,
    async stop() {
      await registered;
      await heartbeat.stop().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'worker deregistration failed'));
    },
  };
}

/** The pipeline runner of a deployment: its gateway and its limits; its units of work carry the deployment's after-commit hooks. */
export function createRunner(app: Buildflow, options: { logger?: Logger; gateway?: PaymentGateway } = {}): PipelineRunner {
  return new PipelineRunner({
    units: app.units,
    gateway: options.gateway ?? app.gateway,
    reservationTtlMs: app.config.reservationTtlMs,
    captureAt: app.config.payment.captureAt,
    maxAttempts: app.config.maxAttempts,
    pauses: new PauseReader(app.db, DEFAULTS.pause.readMaxAgeMs),
    ...(app.config.payment.ratePerS ? { payRate: new RateLimit(app.db, 'pay', app.config.payment.ratePerS) } : {}),
    logger: options.logger ?? silentLogger,
  });
}

/** The sweeper of a deployment. */
export function createSweeper(app: Buildflow, logger: Logger = silentLogger): SweeperLoop {
  return new SweeperLoop(app.units, logger, { intervalMs: app.config.sweepIntervalMs, stuckAfterMs: app.config.stuckAfterMs });
}

/** Starts pipeline workers, the relay and the sweeper on an opened deployment, as `roles` says. */
export function startWorkers(app: Buildflow, options: WorkerOptions = {}): RunningWorkers {
  const logger = options.logger ?? silentLogger;
  const roles: WorkerRoles = { steps: true, relay: true, sweeper: true, deliveries: true, ...options.roles };
  const concurrency = options.concurrency ?? app.config.workerConcurrency;
  const runner = createRunner(app, { logger });
  const leaseMs = Math.max(app.config.workerLeaseMs, app.config.payment.latencyMs * DEFAULTS.worker.leasePaymentCalls);
  const batchSize = options.batchSize ?? DEFAULTS.worker.batchSize;
  const pollMs = options.pollMs ?? DEFAULTS.worker.pollMs;
  const sweeper = roles.sweeper ? createSweeper(app, logger) : undefined;
  sweeper?.start();
  const deliveries = roles.deliveries ? startDeliveries(app, { logger }) : undefined;

  const redisUrl = app.config.redis.url;
  if (!redisUrl) {
    const worker = roles.steps ? new OutboxWorker(app.db, app.signal, runner, logger, { batchSize, leaseMs, pollMs }) : undefined;
    worker?.start(concurrency);
    const id = worker?.id ?? `worker-${process.pid}`;
    const effective = { ...roles, relay: false };
    const heartbeat = startHeartbeat(app, id, effective, 'local', concurrency, runner, logger);
    return {
      id,
      transport: 'local',
      roles: effective,
      registered: heartbeat.registered,
      async stop(timeoutMs: number = DEFAULTS.shutdown.workerDrainMs) {
        await sweeper?.stop();
        await Promise.all([worker?.stop(timeoutMs), deliveries?.stop(timeoutMs)]);
        await heartbeat.stop();
      },
    };
  }

  const queues = new OutboxQueue({
    url: redisUrl,
    prefix: app.config.redis.prefix,
    worker: roles.steps,
    onError: (err) => logger.warn({ err: err.message }, 'redis queue error'),
  });
  const relay = roles.relay
    ? new OutboxRelay(app.db, queues, app.signal, logger, {
        batchSize,
        pollMs: app.config.redis.relayPollMs,
        republishAfterMs: app.config.redis.republishAfterMs,
        jobTimeoutMs: leaseMs,
      })
    : undefined;
  relay?.start();
  const consumer = roles.steps
    ? new RedisConsumer(app.db, queues, runner, app.signal, logger, {
        jobsInFlight: concurrency * DEFAULTS.worker.jobsPerConcurrency,
        parallelBatches: concurrency,
        maxBatch: batchSize,
        leaseMs,
        stallCheckMs: DEFAULTS.worker.stallCheckMs,
      })
    : undefined;
  consumer?.start();
  const id = consumer?.id ?? `relay-${process.pid}`;
  const heartbeat = startHeartbeat(app, id, roles, 'redis', concurrency, runner, logger);
  return {
    id,
    transport: 'redis',
    roles,
    registered: heartbeat.registered,
    async stop(timeoutMs: number = DEFAULTS.shutdown.workerDrainMs) {
      const deadline = Date.now() + timeoutMs;
      await sweeper?.stop();
      await relay?.stop();
      await queues.close(Math.max(0, deadline - Date.now()));
      // A batch still running past the bound is left to its lease: another worker takes it over.
      await withTimeout(consumer?.drain() ?? Promise.resolve(), Math.max(1, deadline - Date.now()), 'worker drain').catch(() => {});
      await deliveries?.stop(Math.max(1, deadline - Date.now()));
      await heartbeat.stop();
    },
  };
}
