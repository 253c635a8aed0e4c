import { CliError } from '../../cli-error.js';
import { METRICS, type MetricKind, type Metrics } from './metrics-catalog.js';
import { parseDurationMs, parseShare } from '../units.js';

export type Comparison = '<' | '<=' | '>' | '>=' | '==';

/** One threshold: `metric op limit`, with the limit in the metric's own unit (ms, share 0..1, plain). */
export interface Threshold {
  expression: string;
  metric: string;
  op: Comparison;
  limit: number;
}

export interface ThresholdResult extends Threshold {
  /** The metric's value; null when the run produced none (e.g. no reads): such a threshold fails. */
  actual: number | null;
  passed: boolean;
}

const EXPRESSION = /^\s*([a-z0-9]+\.[a-z0-9]+)\s*(<=|>=|==|<|>)\s*([0-9.]+\s*[a-zµ%]*)\s*$/i;

function usage(message: string): CliError {
  return new CliError('USAGE', message);
}

function parseLimit(kind: MetricKind, text: string, expression: string): number {
  const value =
    kind === 'latency' ? parseDurationMs(text) : kind === 'share' ? parseShare(text) : /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : undefined;
  if (value === undefined) {
    const want = kind === 'latency' ? 'a duration such as 20ms or 1.5s' : kind === 'share' ? 'a share such as 0.1% or 0.001' : 'a plain number';
    throw usage(`threshold "${expression}": ${text.trim()} is not ${want}`);
  }
  return value;
}

/**
 * Parses `intake.p95<20ms`, `errors.rate<=0.1%`, `intake.rps>=1000`. A metric that the report
 * does not have is a usage error, never a threshold that silently passes.
 */
export function parseThreshold(expression: string): Threshold {
  const m = EXPRESSION.exec(expression);
  if (!m) throw usage(`threshold "${expression}" is not METRIC<OP>VALUE (OP one of < <= > >= ==), e.g. intake.p95<20ms`);
  const metric = m[1]!.toLowerCase();
  const kind = METRICS.get(metric);
  if (!kind) throw usage(`threshold "${expression}": unknown metric ${metric} (known: ${[...METRICS.keys()].join(', ')})`);
  return { expression: expression.trim(), metric, op: m[2] as Comparison, limit: parseLimit(kind, m[3]!, expression) };
}

/** The thresholds of the named flags plus every `--threshold`, in that order. */
export function thresholdsFromFlags(o: {
  maxP99?: number | undefined;
  minRps?: number | undefined;
  maxErrorRate?: number | undefined;
  maxE2eP99?: number | undefined;
  threshold?: string[] | undefined;
}): Threshold[] {
  const out: Threshold[] = [];
  if (o.maxP99 !== undefined) out.push({ expression: `intake.p99<=${o.maxP99}ms`, metric: 'intake.p99', op: '<=', limit: o.maxP99 });
  if (o.minRps !== undefined) out.push({ expression: `intake.rps>=${o.minRps}`, metric: 'intake.rps', op: '>=', limit: o.minRps });
  if (o.maxErrorRate !== undefined) out.push({ expression: `errors.rate<=${o.maxErrorRate}`, metric: 'errors.rate', op: '<=', limit: o.maxErrorRate });
  if (o.maxE2eP99 !== undefined) out.push({ expression: `e2e.p99<=${o.maxE2eP99}ms`, metric: 'e2e.p99', op: '<=', limit: o.maxE2eP99 });
  for (const e of o.threshold ?? []) out.push(parseThreshold(e));
  return out;
}

function compare(actual: number, op: Comparison, limit: number): boolean {
  switch (op) {
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
    case '==':
      return actual === limit;
  }
}

/** Evaluates each threshold on the run's metrics. */
export function evaluateThresholds(thresholds: readonly Threshold[], metrics: Metrics): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = metrics[t.metric] ?? null;
    return { ...t, actual, passed: actual !== null && compare(actual, t.op, t.limit) };
  });
}
