import type { Command } from '@commander-js/extra-typings';
import type { FastifyInstance } from 'fastify';
import { DATA_DIR_HELP, envDefault } from '../setting-help.js';
import { DEFAULTS } from '../../core/defaults.js';
import { CliError } from '../cli-error.js';
import { intArg } from '../parse.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run pipeline workers, the outbox relay and the sweeper (for `serve --no-worker` deployments)')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--concurrency <n>', `parallel batches (${envDefault('BUILDFLOW_WORKER_CONCURRENCY')}); on Redis the worker takes n×${DEFAULTS.worker.jobsPerConcurrency} jobs (each up to ${DEFAULTS.relay.idsPerJob} messages) and merges those that arrive together into batches`, intArg(1, 64))
    .option('--no-steps', 'do not run pipeline steps')
    .option('--no-relay', 'do not publish outbox rows to Redis (scale-out only)')
    .option('--no-sweeper', 'do not re-drive stuck orders or expire reservations')
    .option('--metrics-port <port>', `serve Prometheus /metrics on this port (${envDefault('BUILDFLOW_METRICS_PORT')}; default: no metrics server)`, intArg(0, 65535))
    .option('--metrics-host <host>', `address for /metrics (${envDefault('BUILDFLOW_METRICS_HOST')})`)
    .option('--no-deliveries', 'do not send webhook deliveries or customer emails')
    .addHelpText(
      'after',
      `
Runs until SIGINT or SIGTERM, then stops taking work, finishes the batches in hand (${DEFAULTS.shutdown.workerDrainMs / 1000} s at
most) and exits 0. Any number of workers may share one database; each message is worked by one of them
at a time. With BUILDFLOW_REDIS_URL set, batches come from a bee-queue queue that the relay fills from
the outbox; without it, workers claim outbox rows from the database directly (there is no relay).
Behind PgBouncer in transaction mode (before 1.21), set BUILDFLOW_DATABASE_PREPARED_STATEMENTS=off.
With --metrics-port, GET /metrics answers the admin key (BUILDFLOW_ADMIN_KEY or <data dir>/admin-key)
or BUILDFLOW_METRICS_KEY as a bearer; a port already in use exits 8. A Postgres, Redis or SMTP
server that does not answer at start stops it before it logs ready: one line naming the server,
its URL without the password and the variable, exit 5.
Webhook deliveries and customer emails (BUILDFLOW_SMTP_URL) are claimed from the database on
either transport, with their own concurrency (BUILDFLOW_WEBHOOK_CONCURRENCY, BUILDFLOW_MAIL_CONCURRENCY).

Examples:
  $ buildflow worker
  $ buildflow worker --data-dir /var/lib/buildflow --concurrency 4
  $ BUILDFLOW_DATABASE_URL=postgres://db/shop BUILDFLOW_REDIS_URL=redis://cache:6379 buildflow worker --concurrency 8
  $ buildflow worker --no-steps --no-sweeper      # a relay-only process
  $ BUILDFLOW_METRICS_KEY=… buildflow worker --metrics-port 9464 --metrics-host 0.0.0.0`,
    )
    .action(async (opts) => {
      if (!opts.steps && !opts.relay && !opts.sweeper && !opts.deliveries) {
        throw new CliError('USAGE', 'nothing to run: --no-steps, --no-relay, --no-sweeper and --no-deliveries together leave no role');
      }
      const [{ loadConfig }, { openBuildflow }, { startWorkers }, { createLogger }, { untilShutdown, keepSignalsWhileStarting }, { observeProcess }, { buildMetricsServer }, { resolveAdminKey }, { postgresStatementCount }] =
        await Promise.all([
          import('../../core/config.js'),
          import('../../core/buildflow.js'),
          import('../../worker/start-workers.js'),
          import('../logging.js'),
          import('../shutdown.js'),
          import('../observe-process.js'),
          import('../../server/metrics/metrics-server.js'),
          import('../../core/admin-key.js'),
          import('../../core/db/postgres.js'),
        ]);
      const starting = keepSignalsWhileStarting();
      const config = loadConfig({
        BUILDFLOW_DATA_DIR: opts.dataDir,
        BUILDFLOW_WORKER_CONCURRENCY: opts.concurrency,
        BUILDFLOW_METRICS_PORT: opts.metricsPort,
        BUILDFLOW_METRICS_HOST: opts.metricsHost,
      });
      // A server it needs that does not answer: one line naming it, exit 5, before anything starts,
      // so `ready` is never logged with its transport down.
      const { preflight } = await import('../../core/preflight.js');
      await preflight(config, { database: true, redis: true, smtp: opts.deliveries });
      const log = createLogger(config.logLevel);
      const app = await openBuildflow(config, { migrate: true });
      let metricsServer: FastifyInstance | undefined;
      const observed = observeProcess(app, log);
      try {
        if (config.metrics.port !== undefined) {
          const adminKey = resolveAdminKey(config);
          metricsServer = await buildMetricsServer(observed.metrics, { keys: [adminKey.key, config.metrics.key], loggerInstance: log });
          await listenOrExplain(metricsServer, config.metrics.host, config.metrics.port);
        }
      } catch (err) {
        await metricsServer?.close();
        await observed.close();
        await app.close();
        throw err;
      }
      const workers = startWorkers(app, { logger: log, roles: { steps: opts.steps, relay: opts.relay, sweeper: opts.sweeper, deliveries: opts.deliveries } });
      log.info(
        { database: config.databaseUrl ? 'postgres' : config.dataDir, transport: workers.transport, roles: workers.roles, concurrency: config.workerConcurrency, worker: workers.id },
        'buildflow worker ready',
      );
      if (metricsServer) {
        const url = metricsUrl(metricsServer, config.metrics.host);
        log.info({ url }, `metrics on ${url}`);
      }
      const close = async () => {
        await workers.stop();
        await metricsServer?.close();
        await observed.close();
        await app.close();
        // What this process cost the database over its life (the pipeline benchmark reads it).
        log.info({ worker: workers.id, postgresStatements: postgresStatementCount() }, 'buildflow worker stopped');
      };
      await untilShutdown(log, close, starting);
    });
}

async function listenOrExplain(server: FastifyInstance, host: string, port: number): Promise<void> {
  try {
    await server.listen({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new CliError('CANNOT_LISTEN', `cannot serve metrics on ${host}:${port}: ${why}`);
  }
}

function metricsUrl(server: FastifyInstance, host: string): string {
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
}
