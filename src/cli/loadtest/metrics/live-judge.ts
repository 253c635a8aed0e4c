import type { ArrivalSchedule } from '../generator/arrival-schedule.js';
import { Histogram } from './histogram.js';
import { isError } from './metrics.js';
import { INTAKE_OPS, READ_OPS, latencyOf, type RequestRecord } from '../generator/records.js';
import type { Threshold } from './thresholds.js';

// A second is judged this long after it ended, so the answers to its requests have come back.
const GRACE_MS = 1_000;
const STATS = ['p50', 'p90', 'p95', 'p99', 'max', 'mean'] as const;

/** Whether a threshold can be judged on one second of the run (latencies, rates, the error share). */
export function judgedLive(metric: string): boolean {
  return /^(intake|read)\.(p50|p90|p95|p99|max|mean|rps)$/.test(metric) || metric === 'requests.rps' || metric === 'errors.rate';
}

export interface JudgedSecond {
  second: number;
  /** Expressions of the thresholds this second broke. */
  broken: string[];
}

export interface LiveVerdict {
  /** The first second of the streak of broken seconds that ended the load. */
  fromSecond: number;
  /** The second whose judgement ended it. */
  atSecond: number;
  thresholds: string[];
}

interface Bucket {
  intake: Histogram;
  reads: Histogram;
  requests: number;
  errors: number;
  operations: Set<number>;
}

/**
 * Judges thresholds second by second while the load runs (`--abort-on-fail`, `--find-knee`):
 * once `streak` seconds in a row broke one, {@link tick} says to stop. A second whose requests
 * mostly never answered (a stalled target) breaks every latency threshold: silence is not speed.
 */
export class LiveJudge {
  private readonly buckets = new Map<number, Bucket>();
  private next: number;
  private streak: number[] = [];
  readonly judged: JudgedSecond[] = [];
  verdict: LiveVerdict | undefined;

  constructor(
    private readonly thresholds: readonly Threshold[],
    private readonly o: { startedAt: number; warmupMs: number; streak: number; schedule?: ArrivalSchedule | undefined },
  ) {
    this.next = Math.ceil(o.warmupMs / 1000);
  }

  add(records: readonly RequestRecord[]): void {
    for (const r of records) {
      const second = Math.floor((r.scheduled - this.o.startedAt) / 1000);
      if (second < this.next) continue;
      let b = this.buckets.get(second);
      if (!b) this.buckets.set(second, (b = { intake: new Histogram(), reads: new Histogram(), requests: 0, errors: 0, operations: new Set() }));
      b.requests += 1;
      b.operations.add(r.index);
      if (isError(r)) b.errors += 1;
      if (INTAKE_OPS.includes(r.op)) b.intake.record(latencyOf(r));
      else if (READ_OPS.includes(r.op)) b.reads.record(latencyOf(r));
    }
  }

  /** Judges every second that is over (and its grace); true once the load should stop. */
  tick(now: number): boolean {
    while (!this.verdict && now >= this.o.startedAt + (this.next + 1) * 1000 + GRACE_MS) {
      if (this.o.schedule && this.next * 1000 >= this.o.schedule.endMs) break;
      this.judge(this.next);
      this.buckets.delete(this.next);
      this.next += 1;
    }
    return this.verdict !== undefined;
  }

  private judge(second: number): void {
    const b = this.buckets.get(second);
    const due = this.o.schedule ? this.o.schedule.dueBefore((second + 1) * 1000) - this.o.schedule.dueBefore(second * 1000) : undefined;
    const answered = b?.operations.size ?? 0;
    const silent = due !== undefined ? due > 0 && answered < due / 2 : answered === 0;
    const value = (metric: string): number | undefined => {
      if (metric === 'errors.rate') return b && b.requests > 0 ? b.errors / b.requests : 0;
      if (metric === 'requests.rps') return b?.requests ?? 0;
      const [group, stat] = metric.split('.') as [string, string];
      const h = group === 'intake' ? b?.intake : b?.reads;
      if (stat === 'rps') return h?.count ?? 0;
      if (silent) return Infinity;
      const s = h?.summary();
      return s ? (s[stat as (typeof STATS)[number]] ?? undefined) : undefined;
    };
    const broken = this.thresholds
      .filter((t) => judgedLive(t.metric))
      .filter((t) => {
        const v = value(t.metric);
        return v !== undefined && !holds(v, t);
      })
      .map((t) => t.expression);
    this.judged.push({ second, broken });
    if (broken.length === 0) {
      this.streak = [];
      return;
    }
    this.streak.push(second);
    if (this.streak.length >= this.o.streak) {
      const thresholds = [...new Set(this.judged.filter((j) => this.streak.includes(j.second)).flatMap((j) => j.broken))];
      this.verdict = { fromSecond: this.streak[0]!, atSecond: second, thresholds };
    }
  }
}

function holds(v: number, t: Threshold): boolean {
  switch (t.op) {
    case '<':
      return v < t.limit;
    case '<=':
      return v <= t.limit;
    case '>':
      return v > t.limit;
    case '>=':
      return v >= t.limit;
    case '==':
      return v === t.limit;
  }
}
