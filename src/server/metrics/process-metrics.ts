import { collectDefaultMetrics, Registry } from 'prom-client';

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (CPU, heap, event-loop lag, GC, handles) under the `buildflow_`
 * prefix. They describe the process, not a deployment, so one registry per process serves every
 * server built in it; collecting them twice would start a second set of event-loop and GC observers.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'buildflow_', eventLoopMonitoringPrecision: 20 });
  }
  return processRegistry;
}
