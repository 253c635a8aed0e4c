import type { Command } from '@commander-js/extra-typings';
import { DATA_DIR_HELP, envDefault } from '../setting-help.js';
import type { FastifyInstance } from 'fastify';
import { resolveAdminKey, type AdminKey } from '../../core/admin-key.js';
import { CliError } from '../cli-error.js';
import { DEFAULTS } from '../../core/defaults.js';
import { withTimeout } from '../../core/timeout.js';
import { intArg } from '../parse.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API, with the pipeline workers in the same process')
    .option('--port <port>', `port to listen on (${envDefault('BUILDFLOW_PORT')})`, intArg(0, 65535))
    .option('--host <host>', `address to listen on (${envDefault('BUILDFLOW_HOST')})`)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--no-worker', 'do not run pipeline workers here (run `buildflow worker` separately)')
    .addHelpText(
      'after',
      `
Runs until SIGINT or SIGTERM, then stops taking requests, finishes those in flight and the
pipeline work in hand, and exits 0. The admin key is BUILDFLOW_ADMIN_KEY, or the key kept in
<data dir>/admin-key (generated on first start). Sign-in tokens are stored under
BUILDFLOW_TOKEN_SECRET, or in development a secret kept in <data dir>/token-secret; with
BUILDFLOW_ENV=production a missing or weak secret stops the start (exit 2). With
BUILDFLOW_DATABASE_URL the data lives in Postgres; with BUILDFLOW_REDIS_URL the workers (here or in
\`buildflow worker\` processes) take their work from Redis queues and product reads are cached there.
Behind PgBouncer in transaction mode (before 1.21), set BUILDFLOW_DATABASE_PREPARED_STATEMENTS=off.
A Postgres, Redis or SMTP server that does not answer at start stops it: one line naming the
server, its URL without the password and the variable, exit 5. /readyz answers 503 while the
database or a configured Redis does not answer.
GET /metrics (Prometheus) answers the admin key or BUILDFLOW_METRICS_KEY as a bearer. Logs are
JSON lines on stderr (pretty on a terminal), one per request and one per order settled here.

Examples:
  $ buildflow serve
  $ buildflow serve --port 8080 --host 0.0.0.0 --data-dir /var/lib/buildflow
  $ buildflow serve --no-worker            # API only; run workers with \`buildflow worker\`
  $ BUILDFLOW_DATABASE_URL=postgres://db/shop BUILDFLOW_REDIS_URL=redis://queue:6379 buildflow serve --no-worker --host 0.0.0.0
  $ BUILDFLOW_LOG_LEVEL=debug buildflow serve`,
    )
    .action(async (opts) => {
      const [{ loadConfig }, { openBuildflow }, { buildServer }, { startWorkers }, { createLogger }, { untilShutdown, keepSignalsWhileStarting }, { resolveTokenSecret }, { observeProcess }, { describeBackend }] =
        await Promise.all([
          import('../../core/config.js'),
          import('../../core/buildflow.js'),
          import('../../server/build-server.js'),
          import('../../worker/start-workers.js'),
          import('../logging.js'),
          import('../shutdown.js'),
          import('../../core/customers/token-secret.js'),
          import('../observe-process.js'),
          import('../../core/describe-backend.js'),
        ]);
      const starting = keepSignalsWhileStarting();
      const config = loadConfig({ BUILDFLOW_DATA_DIR: opts.dataDir, BUILDFLOW_PORT: opts.port, BUILDFLOW_HOST: opts.host });
      // A server it needs that does not answer: one line naming it, exit 5, before anything starts
      // (or is written: the token secret's file).
      const { preflight } = await import('../../core/preflight.js');
      await preflight(config, { database: true, redis: true, smtp: opts.worker });
      // Refuse a production start with a missing or weak token secret before opening anything.
      const tokenSecret = resolveTokenSecret(config);
      const logger = createLogger(config.logLevel);
      const app = await openBuildflow(config, { migrate: true });
      let server: FastifyInstance | undefined;
      const observed = observeProcess(app, logger);
      try {
        const adminKey = resolveAdminKey(config);
        server = await buildServer(app, { adminKey: adminKey.key, tokenSecret: tokenSecret.secret, loggerInstance: logger, metrics: observed.metrics, stats: observed.stats, version: observed.version });
        // Fastify logs its listening line through this: the one start line, naming the backend.
        const start = `${describeBackend(config)}, ${opts.worker ? 'workers in this process' : 'no workers'}`;
        await listen(server, config.host, config.port, (address) => `buildflow serving on ${address} (${start})`);
        // Only once listening: a start that fails says one line, the reason, and nothing else.
        logAdminKey(server, adminKey);
        server.log.info(
          tokenSecret.source === 'env' ? 'token secret taken from BUILDFLOW_TOKEN_SECRET' : `token secret is kept in ${tokenSecret.file ?? ''}`,
        );
      } catch (err) {
        await server?.close();
        await observed.close();
        await app.close();
        throw err;
      }
      const log = server.log;
      const workers = opts.worker ? startWorkers(app, { logger: log }) : undefined;

      const running = server;
      await untilShutdown(log, async () => {
        // Stops accepting and drains in-flight requests, each bound nested in the shutdown grace.
        await withTimeout(running.close(), DEFAULTS.shutdown.httpDrainMs, 'HTTP drain').catch((err: Error) => log.warn({ err: err.message }, 'requests still open; closing anyway'));
        await workers?.stop(DEFAULTS.shutdown.workerDrainMs);
        await observed.close();
        await app.close();
      }, starting);
    });
}

async function listen(server: FastifyInstance, host: string, port: number, startLine: (address: string) => string): Promise<void> {
  try {
    await server.listen({ host, port, listenTextResolver: startLine });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new CliError('CANNOT_LISTEN', `cannot listen on ${host}:${port}: ${why}`);
  }
}

/** Says where the admin key comes from, never the key itself. */
function logAdminKey(server: FastifyInstance, key: AdminKey): void {
  if (key.source === 'env') server.log.info('admin key taken from BUILDFLOW_ADMIN_KEY');
  else if (key.generated) server.log.info({ file: key.file }, `generated a new admin key; read it with: cat ${key.file}`);
  else server.log.info({ file: key.file }, `admin key is kept in ${key.file}`);
}
