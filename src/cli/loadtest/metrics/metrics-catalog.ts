/**
 * Every metric a threshold may name, with its kind: latencies are milliseconds, shares are 0..1,
 * counts and rates are plain numbers. The JSON report's `metrics` object has exactly these keys.
 */
export type MetricKind = 'latency' | 'share' | 'count' | 'rate';

const LATENCY_STATS = ['p50', 'p90', 'p95', 'p99', 'max', 'mean'] as const;

function latencyGroup(prefix: string): [string, MetricKind][] {
  return LATENCY_STATS.map((s) => [`${prefix}.${s}`, 'latency']);
}

export const METRICS: ReadonlyMap<string, MetricKind> = new Map<string, MetricKind>([
  ['intake.rps', 'rate'],
  ['intake.count', 'count'],
  ...latencyGroup('intake'),
  ['read.rps', 'rate'],
  ['read.count', 'count'],
  ...latencyGroup('read'),
  ['requests.rps', 'rate'],
  ['requests.count', 'count'],
  ['errors.count', 'count'],
  ['errors.rate', 'share'],
  ['errors.5xx', 'count'],
  ['errors.503', 'count'],
  ['errors.network', 'count'],
  ...latencyGroup('e2e'),
  ['orders.accepted', 'count'],
  ['orders.confirmed', 'count'],
  ['orders.cancelled', 'count'],
  ['late.count', 'count'],
  ['dropped.count', 'count'],
  ['generator.busy', 'share'],
]);

export type Metrics = Record<string, number | null>;
