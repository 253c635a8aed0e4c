import type { Command } from '@commander-js/extra-typings';
import { DATA_DIR_HELP, envDefault } from '../setting-help.js';
import { DEFAULTS } from '../../core/defaults.js';
import { CliError } from '../cli-error.js';
import { intArg } from '../parse.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run pipeline workers, the outbox relay and the sweeper (for `serve --no-worker` deployments)')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--concurrency <n>', `parallel batches (${envDefault('BUILDFLOW_WORKER_CONCURRENCY')}); on Redis each step queue holds n×${DEFAULTS.worker.jobsPerConcurrency} jobs in flight`, intArg(1, 64))
    .option('--no-steps', 'do not run pipeline steps')
    .option('--no-relay', 'do not publish outbox rows to Redis (scale-out only)')
    .option('--no-sweeper', 'do not re-drive stuck orders or expire reservations')
    .addHelpText(
      'after',
      `
Runs until SIGINT or SIGTERM, then stops taking work, finishes the batches in hand (${DEFAULTS.shutdown.workerDrainMs / 1000} s at
most) and exits 0. Any number of workers may share one database; each message is worked by one of them
at a time. With BUILDFLOW_REDIS_URL set, steps come from bee-queue queues that the relay fills from
the outbox; without it, workers claim outbox rows from the database directly (there is no relay).

Examples:
  $ buildflow worker
  $ buildflow worker --data-dir /var/lib/buildflow --concurrency 4
  $ BUILDFLOW_DATABASE_URL=postgres://db/shop BUILDFLOW_REDIS_URL=redis://cache:6379 buildflow worker --concurrency 8
  $ buildflow worker --no-steps --no-sweeper      # a relay-only process`,
    )
    .action(async (opts) => {
      if (!opts.steps && !opts.relay && !opts.sweeper) throw new CliError('USAGE', 'nothing to run: --no-steps, --no-relay and --no-sweeper together leave no role');
      const [{ loadConfig }, { openBuildflow }, { startWorkers }, { createLogger }, { untilShutdown }, { postgresStatementCount }] = await Promise.all([
        import('../../core/config.js'),
        import('../../core/buildflow.js'),
        import('../../worker/start-workers.js'),
        import('../logging.js'),
        import('../shutdown.js'),
        import('../../core/db/postgres.js'),
      ]);
      const config = loadConfig({ BUILDFLOW_DATA_DIR: opts.dataDir, BUILDFLOW_WORKER_CONCURRENCY: opts.concurrency });
      const log = createLogger(config.logLevel);
      const app = await openBuildflow(config, { migrate: true });
      const workers = startWorkers(app, { logger: log, roles: { steps: opts.steps, relay: opts.relay, sweeper: opts.sweeper } });
      log.info(
        { database: config.databaseUrl ? 'postgres' : config.dataDir, transport: workers.transport, roles: workers.roles, concurrency: config.workerConcurrency, worker: workers.id },
        'buildflow worker ready',
      );
      await untilShutdown(log, async () => {
        await workers.stop();
        await app.close();
        // What this process cost the database over its life (the pipeline benchmark reads it).
        log.info({ worker: workers.id, postgresStatements: postgresStatementCount() }, 'buildflow worker stopped');
      });
    });
}
