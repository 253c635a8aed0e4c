import { acceptedOrders } from '../checks/checks.js';
import { Histogram, type LatencySummary } from './histogram.js';
import type { Metrics } from './metrics-catalog.js';
import { INTAKE_OPS, READ_OPS, latencyOf, type RequestRecord } from '../generator/records.js';
import { FINAL_STATUSES, type Snapshot } from '../checks/snapshot.js';

/**
 * Answers that are the workload's own doing, not errors of the target: a cancel that came after
 * payment started, a concurrent retry that met its twin in flight, and (with a hot product) the
 * per-customer open-order limit.
 */
const EXPECTED_REJECTIONS: ReadonlySet<string> = new Set(['ORDER_NOT_CANCELLABLE', 'IDEMPOTENCY_KEY_IN_FLIGHT', 'TOO_MANY_OPEN_ORDERS']);

export function isError(r: RequestRecord): boolean {
  if (r.status === 0 || r.status >= 500) return true;
  if (r.status >= 400) return !(r.code && EXPECTED_REJECTIONS.has(r.code));
  return false;
}

export interface TimelinePoint {
  /** Seconds since the measured window began. */
  second: number;
  /** How much of this second the run covered: less than 1000 for the last one, usually. */
  spanMs: number;
  requests: number;
  intake: number;
  errors: number;
  intakeP50: number | null;
  intakeP99: number | null;
}

export interface RunSummary {
  measuredMs: number;
  intake: LatencySummary & { rps: number };
  reads: LatencySummary & { rps: number };
  requests: { count: number; rps: number };
  errors: { count: number; rate: number; fiveXx: number; unavailable: number; network: number; byStatus: Record<string, number>; byCode: Record<string, number> };
  late: number;
  e2e: LatencySummary & { histogram: { fromMs: number; toMs: number; count: number }[] };
  outcomes: { accepted: number; confirmed: number; cancelled: Record<string, number>; notFinal: number };
  timeline: TimelinePoint[];
}

// A request sent this long after it was due was late: no connection was free, or the generator fell behind.
export const LATE_AFTER_MS = 10;

/** Statistics of the records sent after the warm-up, and the outcomes of every accepted order. */
export function summarize(records: readonly RequestRecord[], snapshot: Snapshot | undefined, window: { from: number; to: number }): RunSummary {
  const measured = records.filter((r) => r.scheduled >= window.from);
  const measuredMs = Math.max(1, window.to - window.from);
  const intake = new Histogram();
  const reads = new Histogram();
  const byStatus: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  let errors = 0;
  let fiveXx = 0;
  let unavailable = 0;
  let network = 0;
  let late = 0;
  const seconds = new Map<number, { requests: number; intake: Histogram; errors: number }>();
  for (const r of measured) {
    const lat = latencyOf(r);
    const second = Math.floor((r.scheduled - window.from) / 1000);
    const s = seconds.get(second) ?? { requests: 0, intake: new Histogram(), errors: 0 };
    seconds.set(second, s);
    s.requests += 1;
    if (INTAKE_OPS.includes(r.op)) {
      intake.record(lat);
      s.intake.record(lat);
    } else if (READ_OPS.includes(r.op)) reads.record(lat);
    byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
    if (r.code) byCode[r.code] = (byCode[r.code] ?? 0) + 1;
    if (isError(r)) {
      errors += 1;
      s.errors += 1;
    }
    if (r.status === 503) unavailable += 1;
    else if (r.status >= 500) fiveXx += 1;
    if (r.status === 0) network += 1;
    if (r.start - r.scheduled > LATE_AFTER_MS) late += 1;
  }
  const rps = (n: number) => n / (measuredMs / 1000);

  const accepted = acceptedOrders(records);
  const e2e = new Histogram();
  let confirmed = 0;
  let notFinal = 0;
  const cancelled: Record<string, number> = {};
  for (const id of accepted.keys()) {
    const o = snapshot?.orders.get(id);
    if (!o || !FINAL_STATUSES.has(o.status)) {
      notFinal += 1;
      continue;
    }
    e2e.record(Date.parse(o.updatedAt) - Date.parse(o.createdAt));
    if (o.status === 'cancelled') cancelled[o.cancelReason ?? 'unknown'] = (cancelled[o.cancelReason ?? 'unknown'] ?? 0) + 1;
    else confirmed += 1;
  }
  const timeline = [...seconds.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([second, s]) => ({ second, spanMs: Math.max(1, Math.min(1000, measuredMs - second * 1000)), requests: s.requests, intake: s.intake.count, errors: s.errors, intakeP50: s.intake.percentile(50) ?? null, intakeP99: s.intake.percentile(99) ?? null }));
  return {
    measuredMs,
    intake: { ...intake.summary(), rps: rps(intake.count) },
    reads: { ...reads.summary(), rps: rps(reads.count) },
    requests: { count: measured.length, rps: rps(measured.length) },
    errors: { count: errors, rate: measured.length === 0 ? 0 : errors / measured.length, fiveXx, unavailable, network, byStatus, byCode },
    late,
    e2e: { ...e2e.summary(), histogram: e2e.bins(30) },
    outcomes: { accepted: accepted.size, confirmed, cancelled, notFinal },
    timeline,
  };
}

/** The flat metrics thresholds are evaluated on (see metrics-catalog.ts). */
export function metricsOf(s: RunSummary, extra: { dropped: number; generatorBusy: number }): Metrics {
  const m: Metrics = {};
  const latency = (prefix: string, l: LatencySummary) => {
    for (const k of ['p50', 'p90', 'p95', 'p99', 'max', 'mean'] as const) m[`${prefix}.${k}`] = l[k] ?? null;
  };
  m['intake.rps'] = s.intake.rps;
  m['intake.count'] = s.intake.count;
  latency('intake', s.intake);
  m['read.rps'] = s.reads.rps;
  m['read.count'] = s.reads.count;
  latency('read', s.reads);
  m['requests.rps'] = s.requests.rps;
  m['requests.count'] = s.requests.count;
  m['errors.count'] = s.errors.count;
  m['errors.rate'] = s.errors.rate;
  m['errors.5xx'] = s.errors.fiveXx;
  m['errors.503'] = s.errors.unavailable;
  m['errors.network'] = s.errors.network;
  latency('e2e', s.e2e);
  m['orders.accepted'] = s.outcomes.accepted;
  m['orders.confirmed'] = s.outcomes.confirmed;
  m['orders.cancelled'] = Object.values(s.outcomes.cancelled).reduce((a, b) => a + b, 0);
  m['late.count'] = s.late;
  m['dropped.count'] = extra.dropped;
  m['generator.busy'] = extra.generatorBusy;
  return m;
}
