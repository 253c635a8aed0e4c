import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CANCEL_REASONS } from '../../core/domain/order-status.js';
import type { StepOutcome, UnitRunner } from '../../core/db/unit-of-work.js';
import { onOrdersFinal, type FinalOrder } from '../../core/observe/order-finals.js';
import { TOPICS } from '../../core/outbox/outbox.js';
import { processMetrics } from './process-metrics.js';

/**
 * Request durations: an intake request takes 1–20 ms, so the buckets are fine there (prom-client's
 * defaults start at 5 ms and fastify-metrics' at 50 ms, which would put every order in one bucket).
 */
export const HTTP_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// A step batch runs in milliseconds (embedded) to seconds (a slow payment provider, a long batch).
const STEP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// Placed → confirmed: sub-second when idle, up to minutes behind a backlog or retries.
const E2E_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

export const HTTP_DURATION_NAME = 'buildflow_http_request_duration_seconds';

export interface MetricsOptions {
  /** The package version, for buildflow_build_info. */
  version: string;
  /** The backend cell: sqlite, postgres or postgres+redis. */
  backend: string;
}

/**
 * The metrics of one deployment in one process: counters and histograms fed by its units'
 * after-commit hooks (what committed here), build info, and whatever scrape-time collectors are
 * added. Labels never hold an order, customer, sku or key: only steps, outcomes, reasons, routes
 * and status codes.
 */
export class BuildflowMetrics {
  readonly registry = new Registry();
  readonly orders: Counter<'outcome' | 'reason'>;
  readonly stepDuration: Histogram<'step' | 'outcome'>;
  readonly stepAttempts: Counter<'step' | 'outcome'>;
  readonly e2e: Histogram;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.orders = new Counter({ name: 'buildflow_orders_total', help: 'Orders placed, confirmed and cancelled (by reason) whose change committed in this process', labelNames: ['outcome', 'reason'], registers });
    this.stepDuration = new Histogram({ name: 'buildflow_step_duration_seconds', help: "Time from the start of a message's batch to the commit of its outcome, per step and outcome", labelNames: ['step', 'outcome'], buckets: STEP_BUCKETS, registers });
    this.stepAttempts = new Counter({ name: 'buildflow_step_attempts_total', help: 'Step attempts by outcome: done (effect committed), retry (failed, retry scheduled), dead (dead-lettered)', labelNames: ['step', 'outcome'], registers });
    this.e2e = new Histogram({ name: 'buildflow_order_e2e_duration_seconds', help: 'Time from placing an order to its confirmation, for orders confirmed in this process', buckets: E2E_BUCKETS, registers });
    const info = new Gauge({ name: 'buildflow_build_info', help: 'Always 1: the version and backend cell of this process', labelNames: ['version', 'backend'], registers });
    info.set({ version: options.version, backend: options.backend }, 1);

    // Every series starts at 0, so rate() and alerts see the first order, not only the second.
    this.orders.inc({ outcome: 'placed' }, 0);
    this.orders.inc({ outcome: 'confirmed' }, 0);
    for (const reason of CANCEL_REASONS) this.orders.inc({ outcome: 'cancelled', reason }, 0);
    for (const step of TOPICS) for (const outcome of ['done', 'retry', 'dead']) this.stepAttempts.inc({ step, outcome }, 0);
  }

  /** The HTTP request histogram (made by the server that measures requests into it). */
  httpHistogram(buckets: number[]): Histogram<'method' | 'route' | 'status_code'> {
    return new Histogram({
      name: HTTP_DURATION_NAME,
      help: 'HTTP requests by method, route pattern and status code, from arrival to response',
      labelNames: ['method', 'route', 'status_code'],
      buckets,
      registers: [this.registry],
    });
  }

  /** Feeds these metrics from what a deployment's units of work commit; returns the function that stops it. */
  listen(units: UnitRunner): () => void {
    const stopFinals = onOrdersFinal(units, (orders) => this.recordFinal(orders));
    const stopCounts = units.onCommit((work) => {
      if (work.placed > 0) this.orders.inc({ outcome: 'placed' }, work.placed);
      if (work.outcomes.length > 0) this.recordSteps(work.outcomes);
    });
    return () => {
      stopFinals();
      stopCounts();
    };
  }

  private recordFinal(orders: readonly FinalOrder[]): void {
    for (const o of orders) {
      if (o.status === 'confirmed') {
        this.orders.inc({ outcome: 'confirmed' });
        if (o.placedAt !== null) this.e2e.observe(Math.max(0, (o.at - o.placedAt) / 1000));
      } else {
        this.orders.inc({ outcome: 'cancelled', reason: o.reason ?? 'unknown' });
      }
    }
  }

  private recordSteps(outcomes: readonly StepOutcome[]): void {
    for (const o of outcomes) {
      const labels = { step: o.topic, outcome: o.outcome };
      this.stepAttempts.inc(labels);
      this.stepDuration.observe(labels, o.seconds);
    }
  }

  /** The Prometheus text exposition of these metrics and the process's own. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    const merged = Registry.merge([this.registry, processMetrics()]);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }
}
