/**
 * A log-bucket latency histogram in the spirit of HdrHistogram: each bucket is 1% wider than the
 * one below, so any percentile is read to within 1% in a few hundred buckets whatever the range,
 * and histograms of different seconds or threads add up exactly.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
// Values are kept in microseconds: 1 µs resolution at the bottom of the range.
const UNIT_PER_MS = 1000;

export class Histogram {
  private readonly buckets = new Map<number, number>();
  count = 0;
  min = Infinity;
  max = -Infinity;
  private sum = 0;

  /** Records one latency in milliseconds (negative values count as 0). */
  record(ms: number): void {
    const v = Math.max(0, ms);
    const index = v * UNIT_PER_MS < 1 ? 0 : Math.ceil(Math.log(v * UNIT_PER_MS) / LOG_GROWTH);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
    this.count += 1;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get mean(): number | undefined {
    return this.count === 0 ? undefined : this.sum / this.count;
  }

  /** The value at percentile `p` (0..100) in milliseconds: the upper edge of its bucket, never above the maximum seen. */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, upperEdge(index)));
    }
    return this.max;
  }

  /** The usual summary, in milliseconds. */
  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.count === 0 ? undefined : this.max,
      mean: this.mean,
    };
  }

  /** Counts in `bins` equal-width bins from 0 to the maximum, for a chart. */
  bins(bins: number): { fromMs: number; toMs: number; count: number }[] {
    if (this.count === 0) return [];
    const width = Math.max(this.max, 0.001) / bins;
    const out = Array.from({ length: bins }, (_, i) => ({ fromMs: i * width, toMs: (i + 1) * width, count: 0 }));
    for (const [index, n] of this.buckets) {
      const v = Math.min(this.max, upperEdge(index));
      out[Math.min(bins - 1, Math.floor(v / width))]!.count += n;
    }
    return out;
  }
}

export interface LatencySummary {
  count: number;
  p50: number | undefined;
  p90: number | undefined;
  p95: number | undefined;
  p99: number | undefined;
  max: number | undefined;
  mean: number | undefined;
}

function upperEdge(index: number): number {
  return index === 0 ? 0 : GROWTH ** index / UNIT_PER_MS;
}
