import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upsertProduct } from '../src/core/catalog/products.js';
import { loadConfig, type ConfigOverrides } from '../src/core/config.js';
import { openBuildflow, type Buildflow, type OpenOptions } from '../src/core/buildflow.js';

/** A throwaway embedded deployment with a few well-stocked products. */
export async function benchApp(overrides: ConfigOverrides = {}, options: OpenOptions = {}): Promise<{ app: Buildflow; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'buildflow-bench-'));
  const config = loadConfig({ BUILDFLOW_DATA_DIR: dir, BUILDFLOW_PAYMENT_LATENCY_MS: 0, BUILDFLOW_LOG_LEVEL: 'silent', ...overrides }, {});
  const app = await openBuildflow(config, { migrate: true, ...options });
  for (let i = 0; i < 8; i++) {
    await upsertProduct(app.db, { sku: `BENCH-${i}`, name: `Bench product ${i}`, category: 'bench', unitPriceCents: 100 + i, onHand: 100_000_000 });
  }
  return {
    app,
    async dispose() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An order body spread over the bench products. */
export function orderBody(i: number): { items: { sku: string; quantity: number }[] } {
  return { items: [{ sku: `BENCH-${i % 8}`, quantity: 1 }, { sku: `BENCH-${(i + 3) % 8}`, quantity: 2 }] };
}

/** Percentile of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number.parseInt(v, 10);
}
