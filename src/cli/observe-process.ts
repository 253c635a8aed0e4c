import type { Logger } from 'pino';
import type { Buildflow } from '../core/buildflow.js';
import { deploymentMetrics, type DeploymentMetrics } from '../server/metrics/deployment-metrics.js';
import { logOrderOutcomes } from '../worker/order-log.js';
import { packageVersion } from '../core/package-info.js';

/**
 * What a long-running command (serve, worker) watches in its deployment: the metrics fed by its
 * events and the snapshot gauges, and one log line per order settled in this process.
 */
export function observeProcess(app: Buildflow, logger: Logger): DeploymentMetrics & { version: string } {
  const version = packageVersion();
  const observed = deploymentMetrics(app, { version });
  const stopLog = logOrderOutcomes(app.events, logger);
  return {
    version,
    metrics: observed.metrics,
    stats: observed.stats,
    async close() {
      stopLog();
      await observed.close();
    },
  };
}
