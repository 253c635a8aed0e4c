import { Counter, Gauge } from 'prom-client';
import { MONEY_KINDS } from '../../core/stats/money-stats.js';
import type { StatsSnapshot } from '../../core/stats/snapshot-types.js';
import type { BuildflowMetrics } from './buildflow-metrics.js';

/** Where the scrape-time gauges come from: the dashboard's snapshot (StatsService, cached ≤ 1 s). */
export interface SnapshotSource {
  snapshot(): Promise<StatsSnapshot>;
}

export interface SnapshotGaugeOptions {
  /** Scale-out: the relay's lag in ms (see core/observe/relay-lag.ts); absent on the embedded transport. */
  relayLagMs?: () => Promise<number>;
}

const OUTBOX_STATES = ['waiting', 'delayed', 'active', 'dead'] as const;
// The label names the provider call, as an operator says it (the ledger row is an `authorization`).
const MONEY_CALLS = { authorization: 'authorize', capture: 'capture', void: 'void', refund: 'refund' } as const;
const QUEUE_STATES = ['waiting', 'active', 'delayed'] as const;

/**
 * Adds the deployment-wide gauges, read at scrape time from the same snapshot as the dashboard
 * and `GET /v1/admin/stats`: every process of a deployment reports the same figures (aggregate
 * them with max, not sum). If the snapshot cannot be taken, buildflow_stats_up says 0 and the
 * gauges have no series (NaN where they have no labels), so the counters and process metrics
 * still get through.
 */
export function addSnapshotGauges(metrics: BuildflowMetrics, source: SnapshotSource, options: SnapshotGaugeOptions = {}): void {
  const registers = [metrics.registry];
  // One snapshot per scrape: the first gauge collected takes it, the others reuse it.
  let current: Promise<StatsSnapshot | undefined> | undefined;
  const snapshot = (): Promise<StatsSnapshot | undefined> => {
    if (!current) {
      current = source.snapshot().catch(() => undefined);
      void current.finally(() => setImmediate(() => (current = undefined)));
    }
    return current;
  };

  /** A gauge set from the snapshot at each scrape; `read` gets undefined when the snapshot failed. */
  const snapshotGauge = (name: string, help: string, labelNames: readonly string[], read: (g: Gauge, s: StatsSnapshot | undefined) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        this.reset();
        read(this, await snapshot());
      },
    });
  };

  new Gauge({
    name: 'buildflow_stats_up',
    help: '1 when the stats snapshot behind the deployment gauges was taken at this scrape, 0 when it failed',
    registers,
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  snapshotGauge('buildflow_outbox_messages', 'Outbox messages per topic: waiting (due, not leased), delayed (retry backoff), active (leased by a worker), dead (dead letters)', ['topic', 'state'], (g, s) => {
    for (const t of s?.topics ?? []) for (const state of OUTBOX_STATES) g.set({ topic: t.topic, state }, t[state]);
  });
  snapshotGauge('buildflow_outbox_oldest_waiting_age_seconds', 'How long the oldest waiting message of each topic has been due (queue latency); 0 when none waits', ['topic'], (g, s) => {
    for (const t of s?.topics ?? []) g.set({ topic: t.topic }, (t.oldestWaitingMs ?? 0) / 1000);
  });
  snapshotGauge('buildflow_orders_stuck', 'Orders in pending, reserved or paid unchanged for longer than BUILDFLOW_STUCK_AFTER_MS', [], (g, s) => g.set(s ? s.orders.stuck.count.count : NaN));
  snapshotGauge('buildflow_dead_letters', 'Messages that ran out of attempts and wait for `buildflow dead-letters retry`', [], (g, s) => g.set(s ? s.topics.reduce((n, t) => n + t.dead, 0) : NaN));
  snapshotGauge('buildflow_stock_invariant_violations', "Products whose on_hand or reserved disagree with the stock ledger, at the background check's last run (NaN before the first)", [], (g, s) => {
    const r = s?.stock.reconciliation;
    g.set(r && (r.status === 'ok' || r.status === 'fail') ? r.drifting : NaN);
  });
  snapshotGauge('buildflow_stock_check_age_seconds', 'Age of the last stock-vs-ledger check behind buildflow_stock_invariant_violations (NaN before the first)', [], (g, s) => {
    const ageMs = s?.stock.reconciliation.ageMs;
    g.set(ageMs === null || ageMs === undefined ? NaN : ageMs / 1000);
  });
  snapshotGauge('buildflow_workers', 'Registered worker processes (serve with workers, buildflow worker): alive, or gone (three missed heartbeats, or its pid on this host died; replaced by a restart, forgotten 5 min after)', ['state'], (g, s) => {
    if (!s) return;
    g.set({ state: 'alive' }, s.workers.filter((w) => w.state === 'alive').length);
    g.set({ state: 'gone' }, s.workers.filter((w) => w.state === 'gone').length);
  });
  snapshotGauge('buildflow_work_unattended', "Items due now that no live worker takes, by the role that takes them (steps, relay, deliveries): doctor's workers check; 0 when attended", ['role'], (g, s) => {
    if (!s) return;
    for (const role of ['steps', 'relay', 'deliveries']) g.set({ role }, s.unattended.find((u) => u.role === role)?.count ?? 0);
  });
  snapshotGauge('buildflow_worker_heartbeat_age_seconds', "Time since each registered worker process's last heartbeat", ['worker'], (g, s) => {
    const now = s ? Date.parse(s.generatedAt) : 0;
    for (const w of s?.workers ?? []) g.set({ worker: w.id }, Math.max(0, now - Date.parse(w.lastSeenAt)) / 1000);
  });
  snapshotGauge('buildflow_queue_jobs', "Scale-out: bee-queue's own count of jobs (waiting, active, delayed) in the queue (topic=outbox); each job is a batch of outbox ids", ['topic', 'state'], (g, s) => {
    if (s?.queue) for (const state of QUEUE_STATES) g.set({ topic: 'outbox', state }, s.queue[state]);
  });
  new Counter({
    name: 'buildflow_money_cents_total',
    help: "Cents of the payment provider's calls that have their answer, by kind (authorize, capture, void, refund) and outcome (succeeded, failed), from counters kept with the payment ledger: deployment-wide, the same in every process",
    labelNames: ['kind', 'outcome'],
    registers,
    async collect() {
      this.reset();
      const s = await snapshot();
      if (!s) return;
      for (const kind of MONEY_KINDS) {
        const m = s.money.byKind[kind];
        this.inc({ kind: MONEY_CALLS[kind], outcome: 'succeeded' }, m.succeededCents);
        this.inc({ kind: MONEY_CALLS[kind], outcome: 'failed' }, m.failedCents);
      }
    },
  });
  const relayLag = options.relayLagMs;
  if (relayLag) {
    new Gauge({
      name: 'buildflow_relay_lag_seconds',
      help: 'Scale-out: how long the oldest due outbox message has waited for a relay to publish it to Redis',
      registers,
      async collect() {
        this.reset();
        try {
          this.set((await relayLag()) / 1000);
        } catch {
          this.set(NaN); // the database did not answer: unknown, not zero
        }
      },
    });
  }
}
