import type { Buildflow } from '../../core/buildflow.js';
import { relayLagMs } from '../../core/observe/relay-lag.js';
import { StatsService } from '../../core/stats/stats-service.js';
import { BuildflowMetrics } from './buildflow-metrics.js';
import { backendCell } from './metrics-route.js';
import { addSnapshotGauges, type SnapshotSource } from './snapshot-gauges.js';

export interface DeploymentMetrics {
  metrics: BuildflowMetrics;
  /** The snapshot behind the gauges; a server in the same process answers /v1/admin/stats from it. */
  stats: SnapshotSource;
  /** Stops listening and closes the snapshot's resources (its Redis connections). */
  close(): Promise<void>;
}

/**
 * The metrics of one process over its deployment: counters and histograms fed by `app.units`' hooks,
 * and the scrape-time gauges from the stats snapshot (`stats`, default a StatsService of its own).
 */
export function deploymentMetrics(app: Buildflow, options: { version: string; stats?: SnapshotSource & { close?(): Promise<void> } }): DeploymentMetrics {
  const metrics = new BuildflowMetrics({ version: options.version, backend: backendCell(app.config) });
  const stop = metrics.listen(app.units);
  const own = options.stats ? undefined : new StatsService(app, { version: options.version });
  const stats = options.stats ?? own!;
  addSnapshotGauges(metrics, stats, app.config.redis.url ? { relayLagMs: () => relayLagMs(app.db, Date.now()) } : {});
  return {
    metrics,
    stats,
    async close() {
      stop();
      await own?.close();
    },
  };
}
