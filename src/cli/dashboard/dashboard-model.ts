import type { StatsSnapshot } from '../../core/stats/snapshot-types.js';
import { DEFAULTS } from '../../core/defaults.js';
import { countOfWork } from '../../core/workers/unattended-work.js';

/** One point of the sparklines: per-second rates between two consecutive snapshots. */
export interface RatePoint {
  at: number;
  placed: number;
  confirmed: number;
  cancelled: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** What the dashboard knows: the last snapshot it got, when, and how the last poll went. */
export interface DashboardData {
  snapshot: StatsSnapshot | null;
  /** When `snapshot` arrived (client clock). */
  receivedAt: number | null;
  /** Why the last poll failed; null when it succeeded. */
  error: string | null;
  /** Rates over the last minute, oldest first. */
  points: RatePoint[];
}

export const EMPTY_DATA: DashboardData = { snapshot: null, receivedAt: null, error: null, points: [] };

const KEEP_MS = DEFAULTS.cli.dashboardKeepMs;

/** The data after a successful poll: rates from the difference with the previous snapshot. */
export function withSnapshot(data: DashboardData, snapshot: StatsSnapshot, at: number): DashboardData {
  const prev = data.snapshot;
  let points = data.points;
  // The server answers the same snapshot within its 1 s cache: no new point then.
  if (prev && data.receivedAt !== null && snapshot.generatedAt !== prev.generatedAt) {
    const seconds = Math.max(0.001, (Date.parse(snapshot.generatedAt) - Date.parse(prev.generatedAt)) / 1000);
    const rate = (k: keyof StatsSnapshot['counters']) => Math.max(0, (snapshot.counters[k] - prev.counters[k]) / seconds);
    points = [
      ...points.filter((p) => at - p.at <= KEEP_MS),
      { at, placed: rate('ordersPlaced'), confirmed: rate('ordersConfirmed'), cancelled: rate('ordersCancelled'), p50Ms: snapshot.latency.p50Ms, p99Ms: snapshot.latency.p99Ms },
    ];
  }
  return { snapshot, receivedAt: at, error: null, points };
}

/** The data after a failed poll: the last snapshot is kept. */
export function withError(data: DashboardData, error: string): DashboardData {
  return { ...data, error };
}

export type AlertLevel = 'error' | 'warn';

export interface Alert {
  level: AlertLevel;
  text: string;
  /** A few words for the "+N more" list. */
  short: string;
}

function plural(n: number | string, one: string, many: string): string {
  return `${n} ${Number(n) === 1 ? one : many}`;
}

/**
 * What needs a person's attention, most urgent first. Work with no live worker to take it and the
 * Redis settings come from the snapshot as doctor's rules judged them (src/core/stats), so the
 * dashboard and `buildflow doctor` agree, BUILDFLOW_ACCEPT included.
 */
export function alertsOf(data: DashboardData, now: number): Alert[] {
  const alerts: Alert[] = [];
  if (data.error) {
    const old = data.receivedAt === null ? 'no data yet' : `data from ${Math.round((now - data.receivedAt) / 1000)}s ago`;
    alerts.push({ level: 'error', text: `server unreachable, ${old}, retrying: ${data.error}`, short: 'unreachable' });
  }
  const s = data.snapshot;
  if (!s) return alerts;
  for (const u of s.unattended) {
    const gone = u.gone.length === 0 ? 'none registered' : `${u.gone.length} gone`;
    alerts.push({ level: 'error', text: `${countOfWork(u)} due and no live ${u.role} worker (${gone}): start buildflow worker`, short: `no ${u.role} worker` });
  }
  if (s.stock.reconciliation.status === 'fail') {
    alerts.push({ level: 'error', text: `stock invariant broken: ${plural(s.stock.reconciliation.drifting, 'product disagrees', 'products disagree')} with the ledger`, short: 'stock invariant broken' });
  }
  for (const c of s.settings.checks) if (c.status === 'fail') alerts.push({ level: 'error', text: c.detail, short: c.name });
  const dead = s.topics.reduce((n, t) => n + t.dead, 0);
  if (dead > 0) alerts.push({ level: 'error', text: `${plural(dead, 'dead letter', 'dead letters')}: buildflow dead-letters list`, short: `${dead} dead` });
  const stuck = s.orders.stuck.count;
  if (stuck.count > 0) {
    const n = `${stuck.capped ? '≥' : ''}${stuck.count}`;
    alerts.push({ level: 'warn', text: `${plural(n, 'order', 'orders')} stuck over ${Math.round(s.orders.stuck.stuckAfterMs / 1000)}s`, short: `${n} stuck` });
  }
  const gone = s.workers.filter((w) => w.state === 'gone').length;
  if (gone > 0) alerts.push({ level: 'warn', text: `${plural(gone, 'worker', 'workers')} gone (no heartbeat)`, short: `${plural(gone, 'worker', 'workers')} gone` });
  return alerts;
}
