import { describe, expect, it } from 'vitest';
import { Histogram } from '../../../src/cli/loadtest/metrics/histogram.js';
import { Workload, scarceRanks, type WorkloadPlan } from '../../../src/cli/loadtest/generator/plan.js';

const plan = (seed: number): WorkloadPlan => ({
  seed,
  runId: 'r1',
  skus: Array.from({ length: 50 }, (_, i) => `SKU-${i}`),
  customers: 10,
  readShare: 0.2,
  retryShare: 0.1,
  cancelShare: 0.1,
});

describe('workload', () => {
  it('when the same seed draws again, then the same operations come out in the same order, whatever was drawn before', () => {
    const a = new Workload(plan(42));
    const b = new Workload(plan(42));
    const forward = Array.from({ length: 200 }, (_, i) => a.opAt(i));
    const backward = Array.from({ length: 200 }, (_, i) => b.opAt(199 - i)).reverse();
    expect(backward).toEqual(forward);
    const other = Array.from({ length: 200 }, (_, i) => new Workload(plan(43)).opAt(i));
    expect(other).not.toEqual(forward);
  });

  it('when many operations are drawn, then the shares and the Zipf skew of skus are as configured', () => {
    const w = new Workload(plan(7));
    const ops = Array.from({ length: 20_000 }, (_, i) => w.opAt(i));
    const orders = ops.filter((o) => o.kind === 'order');
    expect(1 - orders.length / ops.length).toBeCloseTo(0.2, 1);
    expect(orders.filter((o) => o.retry !== 'none').length / orders.length).toBeCloseTo(0.1, 1);
    expect(orders.filter((o) => o.cancel).length / orders.length).toBeCloseTo(0.1, 1);
    const picks = new Map<string, number>();
    for (const o of orders) for (const item of o.items) picks.set(item.sku, (picks.get(item.sku) ?? 0) + 1);
    // Rank 1 is drawn far more often than rank 10, and rank 10 more than rank 50.
    expect(picks.get('SKU-0')!).toBeGreaterThan(5 * picks.get('SKU-9')!);
    expect(picks.get('SKU-9')!).toBeGreaterThan(picks.get('SKU-49') ?? 0);
    expect(new Set(orders.map((o) => o.key)).size).toBe(orders.length);
    expect(orders.every((o) => o.key.startsWith('lt-r1-'))).toBe(true);
  });
});

describe('money after payment', () => {
  it('when --refund-share and --cancel-paid-share are set, then those shares of orders carry the follow-up, never with a customer cancel, and the rest of the mix is the seed\'s as before', () => {
    const before = new Workload(plan(11));
    const w = new Workload({ ...plan(11), refundShare: 0.2, cancelPaidShare: 0.1 });
    const ops = Array.from({ length: 20_000 }, (_, i) => w.opAt(i));
    const orders = ops.flatMap((o) => (o.kind === 'order' ? [o] : []));
    expect(orders.filter((o) => o.refund).length / orders.length).toBeCloseTo(0.2 * 0.9, 1);
    expect(orders.filter((o) => o.cancelPaid).length / orders.length).toBeCloseTo(0.1 * 0.9 * 0.8, 1);
    expect(orders.some((o) => (o.refund || o.cancelPaid) && o.cancel)).toBe(false);
    expect(orders.some((o) => o.refund && o.cancelPaid)).toBe(false);
    const mix = (op: ReturnType<Workload['opAt']>) => (op.kind === 'order' ? { ...op, refund: false, cancelPaid: false } : op);
    expect(ops.slice(0, 500).map(mix)).toEqual(Array.from({ length: 500 }, (_, i) => mix(before.opAt(i))));
  });
});

describe('scarce products', () => {
  // The share of orders that ask for any of the given ranks: the most that can end out_of_stock.
  const shareAsking = (ranks: number[], products: number) => {
    const p = { ...plan(3), skus: Array.from({ length: products }, (_, i) => `SKU-${i}`) };
    const w = new Workload(p);
    const scarce = new Set(ranks.map((r) => p.skus[r]));
    const orders = Array.from({ length: 20_000 }, (_, i) => w.opAt(i)).filter((o) => o.kind === 'order');
    return orders.filter((o) => o.items.some((it) => scarce.has(it.sku))).length / orders.length;
  };

  it('when --hot-stock is not given, then the one scarce product is asked for by a few % of orders (at most 10 %), whatever the catalog size', () => {
    for (const products of [20, 74, 500]) {
      const ranks = scarceRanks(products, undefined);
      expect(ranks).toHaveLength(1);
      const share = shareAsking(ranks, products);
      expect(share, `${products} products`).toBeGreaterThan(0.01);
      expect(share, `${products} products`).toBeLessThanOrEqual(0.1);
    }
  });

  it('when --hot-stock 1 is given, then the hottest product is the scarce one, and far more orders ask for it', () => {
    expect(scarceRanks(74, 1)).toEqual([0]);
    expect(shareAsking([0], 74)).toBeGreaterThan(0.4);
    expect(scarceRanks(74, 0)).toEqual([]);
  });
});

describe('histogram', () => {
  it('when values are recorded, then percentiles are within 1% of the exact ones and max/min are exact', () => {
    const h = new Histogram();
    const values = Array.from({ length: 10_000 }, (_, i) => 0.05 + ((i * 7919) % 10_000) / 10); // 0.05 … 1000 ms
    for (const v of values) h.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      expect(Math.abs(h.percentile(p)! - exact) / exact).toBeLessThan(0.011);
    }
    expect(h.max).toBe(Math.max(...values));
    expect(h.min).toBe(Math.min(...values));
    expect(h.count).toBe(values.length);
  });

  it('when nothing was recorded, then there is no percentile rather than a zero', () => {
    expect(new Histogram().summary()).toEqual({ count: 0, p50: undefined, p90: undefined, p95: undefined, p99: undefined, max: undefined, mean: undefined });
  });

  it('when binned for a chart, then every value lands in one bin', () => {
    const h = new Histogram();
    for (const v of [1, 2, 3, 50, 100]) h.record(v);
    const bins = h.bins(10);
    expect(bins).toHaveLength(10);
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(5);
    expect(bins.at(-1)!.count).toBeGreaterThanOrEqual(1);
  });
});
