import { InvalidArgumentError } from '@commander-js/extra-typings';
import { CliError } from '../../cli-error.js';
import { ExitCode } from '../../exit-codes.js';
import { METRICS } from '../metrics/metrics-catalog.js';
import type { Comparison, LoadtestReport } from './report-schema.js';
import { parseShare } from '../units.js';

/** `--tolerance 10%` (every relative metric) and `--tolerance intake.p99=20%` (one metric, or `outcomes`, `errors.rate`). */
export interface Tolerances {
  relative: number;
  perMetric: Record<string, number>;
}

export const DEFAULT_TOLERANCE = 0.1;
// Shares (the outcome mix, the error rate) move by percentage points, not by a share of themselves.
const DEFAULT_OUTCOME_POINTS = 0.05;
const DEFAULT_ERROR_POINTS = 0.005;
// A latency rise smaller than this is below what a shared machine can tell apart, whatever its share.
const MIN_LATENCY_CHANGE_MS = 1;
// A percentile is judged only when both runs have this many requests beyond it: the p99 of 120
// requests is their second slowest, and one hiccup of a shared machine moves it by any amount.
export const MIN_TAIL_SAMPLES = 10;

/** Whether a run has enough requests beyond the metric's percentile for its change to mean anything. */
function enoughTail(r: LoadtestReport, metric: string): boolean {
  const m = /^([a-z0-9]+)\.p(\d+)$/.exec(metric);
  if (!m) return true;
  const count = r.metrics[`${m[1] === 'e2e' ? 'orders' : m[1]}.${m[1] === 'e2e' ? 'accepted' : 'count'}`] ?? 0;
  return count * (1 - Number(m[2]) / 100) >= MIN_TAIL_SAMPLES;
}

/** A commander parser collecting --tolerance values. */
export function toleranceArg(value: string, previous: Tolerances = { relative: DEFAULT_TOLERANCE, perMetric: {} }): Tolerances {
  const m = /^\s*(?:([a-z0-9.]+)\s*=)?\s*([0-9.]+\s*%?)\s*$/i.exec(value);
  const share = m ? parseShare(m[2]!) : undefined;
  if (!m || share === undefined) throw new InvalidArgumentError('expected a share such as 10% or METRIC=20%, e.g. intake.p99=20% or outcomes=5%');
  const metric = m[1]?.toLowerCase();
  if (metric === undefined) return { ...previous, relative: share };
  if (metric !== 'outcomes' && !COMPARED.some((c) => c.metric === metric)) {
    throw new InvalidArgumentError(`unknown metric ${metric} (compared: ${COMPARED.map((c) => c.metric).join(', ')}, outcomes)`);
  }
  return { ...previous, perMetric: { ...previous.perMetric, [metric]: share } };
}

interface Compared {
  metric: string;
  better: 'higher' | 'lower';
  kind: 'relative' | 'points';
}

const COMPARED: Compared[] = [
  ...['intake.rps', 'requests.rps', 'read.rps'].map((metric) => ({ metric, better: 'higher' as const, kind: 'relative' as const })),
  ...['intake.p50', 'intake.p90', 'intake.p95', 'intake.p99', 'read.p50', 'read.p99', 'e2e.p50', 'e2e.p99'].map((metric) => ({ metric, better: 'lower' as const, kind: 'relative' as const })),
  { metric: 'errors.rate', better: 'lower', kind: 'points' },
];
for (const c of COMPARED) if (!METRICS.has(c.metric)) throw new Error(`compare names an unknown metric ${c.metric}`);

/** What makes two runs the same workload: seed, mix and load model. Fields a report does not carry are not compared. */
function workloadOf(r: LoadtestReport): Record<string, unknown> {
  const w = r.run.workload;
  return {
    seed: r.run.seed,
    model: r.run.model,
    connections: r.run.connections,
    rate: r.run.rate,
    stages: r.run.stages ? r.run.stages.map((s) => `${s.durationMs}ms:${s.toRate}`).join(',') : undefined,
    ...(w ? { customers: w.customers, 'hot-stock': w.hotStock, 'hot-units': w.hotUnits, 'retry-share': w.retryShare, 'cancel-share': w.cancelShare, 'read-share': w.readShare, 'refund-share': w.refundShare, 'cancel-paid-share': w.cancelPaidShare } : {}),
  };
}

export function workloadDifferences(base: LoadtestReport, next: LoadtestReport): string[] {
  const a = workloadOf(base);
  const b = workloadOf(next);
  return Object.keys(a)
    .filter((k) => k in b && a[k] !== undefined && b[k] !== undefined && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k} ${String(a[k])} vs ${String(b[k])}`);
}

/**
 * Per-second spread of a metric as a share of its mean, over the run's full seconds: the noise
 * of one run's figure (the standard error of the mean), or undefined with fewer than 3 seconds.
 */
function relativeNoise(r: LoadtestReport, metric: string): number | undefined {
  const full = r.timeline.filter((p) => p.spanMs >= 1000);
  const values = full.map((p) => (metric === 'intake.rps' ? p.intake : metric === 'requests.rps' ? p.requests : metric === 'intake.p50' ? p.intakeP50 : metric === 'intake.p99' ? p.intakeP99 : null)).filter((v): v is number => v !== null);
  if (values.length < 3) return undefined;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean <= 0) return undefined;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance) / mean / Math.sqrt(values.length);
}

function outcomeShares(r: LoadtestReport): Record<string, number> {
  const o = r.outcomes;
  const of = (n: number) => (o.accepted === 0 ? 0 : n / o.accepted);
  const out: Record<string, number> = { 'outcomes.confirmed': of(o.confirmed), 'outcomes.not-final': of(o.notFinal) };
  for (const [reason, n] of Object.entries(o.cancelled)) out[`outcomes.cancelled.${reason}`] = of(n);
  return out;
}

/**
 * Compares a run with a baseline: each metric's change beside the runs' noise, failing when
 * throughput fell or a latency rose past its tolerance, the error rate or the outcome mix moved
 * past theirs (percentage points), or a check that passed in the baseline failed. Runs of
 * different workloads are refused (exit 2) unless `force`.
 */
export function compareReports(base: LoadtestReport, next: LoadtestReport, tolerances: Tolerances, force: boolean): Comparison {
  const differences = workloadDifferences(base, next);
  if (differences.length > 0 && !force) {
    throw new CliError('USAGE', `the runs are of different workloads (${differences.join('; ')}): comparing them says nothing about the change; --force compares anyway`);
  }
  const metrics: Comparison['metrics'] = [];
  for (const c of COMPARED) {
    const a = base.metrics[c.metric] ?? null;
    const b = next.metrics[c.metric] ?? null;
    if (a === null || b === null) continue;
    const tolerance = tolerances.perMetric[c.metric] ?? (c.kind === 'points' ? DEFAULT_ERROR_POINTS : tolerances.relative);
    const change = c.kind === 'points' ? b - a : a === 0 ? (b === 0 ? 0 : Infinity) : (b - a) / a;
    const na = relativeNoise(base, c.metric);
    const nb = relativeNoise(next, c.metric);
    const noise = na !== undefined && nb !== undefined ? Math.sqrt(na * na + nb * nb) : null;
    const worse = c.better === 'higher' ? -change : change;
    const tinyLatency = /\.p\d+$/.test(c.metric) && b - a < MIN_LATENCY_CHANGE_MS;
    const judged = enoughTail(base, c.metric) && enoughTail(next, c.metric);
    metrics.push({ metric: c.metric, better: c.better, kind: c.kind, base: a, new: b, change: Number.isFinite(change) ? change : null, noise, tolerance, judged, passed: !judged || tinyLatency || worse <= tolerance });
  }
  const sa = outcomeShares(base);
  const sb = outcomeShares(next);
  const outcomeTolerance = tolerances.perMetric.outcomes ?? DEFAULT_OUTCOME_POINTS;
  for (const key of [...new Set([...Object.keys(sa), ...Object.keys(sb)])].sort()) {
    const a = sa[key] ?? 0;
    const b = sb[key] ?? 0;
    metrics.push({ metric: key, better: 'same', kind: 'points', base: a, new: b, change: b - a, noise: null, tolerance: outcomeTolerance, judged: true, passed: Math.abs(b - a) <= outcomeTolerance });
  }
  const checks = next.checks.map((c) => {
    const was = base.checks.find((x) => x.name === c.name)?.status ?? null;
    return { name: c.name, base: was, new: c.status, passed: !(was === 'pass' && c.status === 'fail') };
  });
  const passed = metrics.every((m) => m.passed) && checks.every((c) => c.passed);
  return {
    passed,
    exitCode: passed ? ExitCode.OK : ExitCode.COMPARE_FAILED,
    base: { runId: base.run.runId, startedAt: base.run.startedAt, seed: base.run.seed },
    new: { runId: next.run.runId, startedAt: next.run.startedAt, seed: next.run.seed },
    workloadDifferences: differences,
    metrics,
    checks,
  };
}

/** What failed, in one line, for the error message. */
export function comparisonFailures(c: Comparison): string[] {
  return [...c.metrics.filter((m) => !m.passed).map((m) => m.metric), ...c.checks.filter((x) => !x.passed).map((x) => `check ${x.name}`)];
}
