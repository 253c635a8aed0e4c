import type { Logger } from 'pino';
import type { Buildflow } from '../core/buildflow.js';
import { BuildflowMetrics } from '../server/metrics/buildflow-metrics.js';
import { backendCell } from '../server/metrics/metrics-route.js';
import { logOrderOutcomes } from '../worker/order-log.js';
import { packageVersion } from './package-root.js';

/**
 * What a long-running command (serve, worker) watches in its deployment: the metrics fed by its
 * events, and one log line per order settled in this process.
 */
export function observeProcess(app: Buildflow, logger: Logger): { metrics: BuildflowMetrics; version: string } {
  const version = packageVersion();
  const metrics = new BuildflowMetrics({ version, backend: backendCell(app.config) });
  metrics.listen(app.events);
  logOrderOutcomes(app.events, logger);
  return { metrics, version };
}
