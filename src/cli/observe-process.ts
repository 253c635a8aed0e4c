import type { Logger } from 'pino';
import type { Buildflow } from '../core/buildflow.js';
import { deploymentMetrics, type DeploymentMetrics } from '../server/metrics/deployment-metrics.js';
import { logOrderOutcomes } from '../worker/order-log.js';
import { packageVersion } from '../core/package-info.js';

/**
 * What a long-running command (serve, worker) watches in its deployment: the metrics fed by its
 * units' after-commit hooks and the snapshot gauges, and one log line per order settled in this process.
 */
export function observeProcess(app: Buildflow, logger: Logger): DeploymentMetrics & { version: string } {
  const version = packageVersion();
  const observed = deploymentMetrics(app, { version });
  const stopLog = logOrderOutcomes(app.units, logger);
  const stopCacheLog = app.cache.onAvailability((up, reason) => {
    if (up) logger.info('Redis product cache is back: product reads use it again');
    else logger.warn({ reason }, `Redis product cache unavailable (${reason ?? 'unknown error'}): product reads go to the database until it is back`);
  });
  return {
    version,
    metrics: observed.metrics,
    stats: observed.stats,
    async close() {
      stopLog();
      stopCacheLog();
      await observed.close();
    },
  };
}
