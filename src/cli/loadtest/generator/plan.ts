import { drawRank, rngFor, zipfCdf } from './random.js';

/** What the generator needs to draw operations; the same plan and seed always draw the same mix. */
export interface WorkloadPlan {
  seed: number;
  /** Distinguishes this run's Idempotency-Keys from every other run's on the same deployment. */
  runId: string;
  /** Skus, hottest first (rank 1 of the Zipf choice). */
  skus: string[];
  customers: number;
  readShare: number;
  retryShare: number;
  cancelShare: number;
  /** Confirmed orders the admin refunds in part (0 when absent). */
  refundShare?: number;
  /** Orders the admin cancels once payment has started, before shipment (0 when absent). */
  cancelPaidShare?: number;
}

// Exponent of the Zipf choice of sku: about what web shops see for product popularity.
const ZIPF_S = 1.1;
const MAX_LINES = 4;
const MAX_QUANTITY = 3;

export type Operation =
  | {
      kind: 'order';
      index: number;
      customer: number;
      key: string;
      items: { sku: string; quantity: number }[];
      /** Send it again with the same key: after the answer, or at the same time. */
      retry: 'none' | 'after' | 'concurrent';
      cancel: boolean;
      /** Once confirmed, the admin refunds part of it. */
      refund: boolean;
      /** Once paid or confirmed, the admin cancels it. */
      cancelPaid: boolean;
    }
  | { kind: 'read'; index: number; customer: number; read: 'product' | 'products' | 'order'; sku: string };

/** Draws operations of a plan; `opAt(i)` depends only on the plan and `i`, never on timing. */
export class Workload {
  private readonly cdf: number[];

  constructor(readonly plan: WorkloadPlan) {
    if (plan.skus.length === 0) throw new Error('the workload needs at least one product');
    this.cdf = zipfCdf(plan.skus.length, ZIPF_S);
  }

  private sku(rand: () => number): string {
    return this.plan.skus[drawRank(this.cdf, rand())]!;
  }

  opAt(index: number): Operation {
    const rand = rngFor(this.plan.seed, index);
    const customer = Math.floor(rand() * this.plan.customers);
    if (rand() < this.plan.readShare) {
      const r = rand();
      return { kind: 'read', index, customer, read: r < 0.5 ? 'product' : r < 0.7 ? 'products' : 'order', sku: this.sku(rand) };
    }
    const lines = 1 + Math.floor(rand() * MAX_LINES);
    const items = Array.from({ length: lines }, () => ({ sku: this.sku(rand), quantity: 1 + Math.floor(rand() * MAX_QUANTITY) }));
    const retry = rand() < this.plan.retryShare ? (rand() < 0.5 ? 'after' : 'concurrent') : 'none';
    const cancel = rand() < this.plan.cancelShare;
    // Drawn after the older choices, so a seed draws the same mix as before these shares existed.
    // An order the customer cancels at once never gets as far as payment: it takes neither.
    const refund = rand() < (this.plan.refundShare ?? 0) && !cancel;
    const cancelPaid = rand() < (this.plan.cancelPaidShare ?? 0) && !cancel && !refund;
    return { kind: 'order', index, customer, key: `lt-${this.plan.runId}-${index}`, items, retry, cancel, refund, cancelPaid };
  }
}

// The default scarce product is drawn for about this share of order lines: with 1–4 lines an
// order, some 4 % of orders ask for it, so once it runs out only they end out_of_stock and the
// run still mostly measures the whole pipeline rather than the short cancel path.
const DEFAULT_SCARCE_LINE_SHARE = 0.016;

/**
 * Ranks (0 = hottest) of the products set-up gives only a few units: the `hotStock` hottest when
 * asked for, else the one product whose Zipf share of order lines is nearest 1.6 %.
 */
export function scarceRanks(products: number, hotStock: number | undefined): number[] {
  if (hotStock !== undefined) return Array.from({ length: Math.min(hotStock, products) }, (_, i) => i);
  const cdf = zipfCdf(products, ZIPF_S);
  let best = 0;
  for (let r = 0; r < products; r++) {
    const share = cdf[r]! - (r === 0 ? 0 : cdf[r - 1]!);
    const bestShare = cdf[best]! - (best === 0 ? 0 : cdf[best - 1]!);
    if (Math.abs(share - DEFAULT_SCARCE_LINE_SHARE) < Math.abs(bestShare - DEFAULT_SCARCE_LINE_SHARE)) best = r;
  }
  return [best];
}
