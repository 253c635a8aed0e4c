import type { Command } from '@commander-js/extra-typings';
import { intArg } from '../parse.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run pipeline workers only, on the same database as `serve --no-worker`')
    .option('--data-dir <dir>', 'directory of the database (env BUILDFLOW_DATA_DIR, default .buildflow)')
    .option('--concurrency <n>', 'parallel work loops (env BUILDFLOW_WORKER_CONCURRENCY, default 2)', intArg(1, 64))
    .addHelpText(
      'after',
      `
Runs until SIGINT or SIGTERM, then finishes the work in hand and exits 0. Several workers may
share one data directory; each message is worked by one of them at a time.

Examples:
  $ buildflow worker
  $ buildflow worker --data-dir /var/lib/buildflow --concurrency 4`,
    )
    .action(async (opts) => {
      const [{ loadConfig }, { openBuildflow }, { startWorkers }, { createLogger }, { untilShutdown }] = await Promise.all([
        import('../../core/config.js'),
        import('../../core/buildflow.js'),
        import('../../worker/start-workers.js'),
        import('../logging.js'),
        import('../shutdown.js'),
      ]);
      const config = loadConfig({ BUILDFLOW_DATA_DIR: opts.dataDir, BUILDFLOW_WORKER_CONCURRENCY: opts.concurrency });
      const log = createLogger(config.logLevel);
      const app = await openBuildflow(config, { migrate: true });
      const workers = startWorkers(app, { logger: log });
      log.info({ dataDir: config.dataDir, concurrency: config.workerConcurrency, worker: workers.id, transport: workers.transport }, 'buildflow worker ready');
      await untilShutdown(log, async () => {
        await workers.stop();
        await app.close();
      });
    });
}
