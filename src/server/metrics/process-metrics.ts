import { collectDefaultMetrics, Registry } from 'prom-client';

let processRegistry: Registry | undefined;

// prom-client names three gauges `_total`, which Prometheus keeps for counters; each is the sum of
// a by-type gauge that stays (nodejs_active_handles, _resources, _requests).
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_resources_total', 'nodejs_active_requests_total'];

/**
 * prom-client's default metrics (CPU, memory, heap, event-loop lag, GC, handles) under the
 * `buildflow_` prefix. They describe the process, not a deployment, so one registry per process
 * serves every server built in it; collecting them twice would start a second set of event-loop
 * and GC observers.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'buildflow_', eventLoopMonitoringPrecision: 20 });
    for (const name of MISNAMED) processRegistry.removeSingleMetric(`buildflow_${name}`);
  }
  return processRegistry;
}
