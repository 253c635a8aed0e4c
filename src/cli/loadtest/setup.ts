import { randomBytes } from 'node:crypto';
import { CliError } from '../cli-error.js';
import { bearerClient, fetchAll, mapLimit, type ApiClient } from './api.js';
import { seededShuffle } from './random.js';

export interface ProductSnapshot {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

export interface SetUp {
  /** Skus, hottest first. */
  skus: string[];
  /** On-hand stock of each product when the load started. */
  initialStock: Record<string, number>;
  tokens: string[];
}

// Stock of every product that is not hot: more than any run here can sell, so only hot products run out.
export const AMPLE_STOCK = 1_000_000;

/**
 * Prepares the target: the catalog's stock set (the `hotStock` hottest products get only
 * `hotUnits` each, so some orders end out_of_stock), and `customers` signed-up customers with
 * tokens. The hot products follow the seed, so a replay with the same seed runs out of the same ones.
 */
export async function setUpTarget(admin: ApiClient, url: string, o: { seed: number; runId: string; customers: number; hotStock: number; hotUnits: number }): Promise<SetUp> {
  const products = await fetchAll<ProductSnapshot>(admin, '/v1/products');
  if (products.length === 0) throw new CliError('USAGE', `the catalog at ${url} is empty: seed it first (buildflow seed)`);
  const skus = seededShuffle(products.map((p) => p.sku).sort(), o.seed);
  const initialStock: Record<string, number> = {};
  await mapLimit(skus, 4, async (sku, rank) => {
    const set = rank < o.hotStock ? o.hotUnits : AMPLE_STOCK;
    const view = await admin.post<ProductSnapshot>(`/v1/products/${encodeURIComponent(sku)}/stock`, { set, reason: `loadtest ${o.runId} set-up` });
    initialStock[sku] = view.onHand;
  });

  const anonymous = bearerClient(url);
  const tokens = await mapLimit(Array.from({ length: o.customers }, (_, i) => i), 4, async (i) => {
    const email = `loadtest-${o.runId}-${i}@loadtest.invalid`;
    const password = randomBytes(18).toString('base64url');
    await anonymous.post('/v1/customers', { email, name: `Load test customer ${i}`, password });
    const { token } = await anonymous.post<{ token: string }>('/v1/auth/token', { email, password });
    return token;
  });
  return { skus, initialStock, tokens };
}
