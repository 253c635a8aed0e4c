import { CliError } from '../../cli-error.js';
import { fetchAll, mapLimit, retryingClient, type LoadtestApi } from './api.js';
import { CustomerCache, type CachedCustomer } from './customer-cache.js';
import { scarceRanks } from '../generator/plan.js';
import { seededShuffle } from '../generator/random.js';

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
  /** The products given only `hotUnits`, so orders for them run out of stock. */
  scarce: string[];
  tokens: string[];
  /** How the customers were had: reused with their tokens, signed in again, or signed up. */
  customers: { reused: number; signedIn: number; signedUp: number };
}

// Stock of every product that is not scarce: more than any run here can sell, so only scarce products run out.
export const AMPLE_STOCK = 1_000_000;
// A cached token this close to expiring is renewed rather than trusted for the run.
const TOKEN_MARGIN_MS = 10 * 60_000;

/**
 * Prepares the target: the catalog's stock set (the scarce products, see {@link scarceRanks},
 * get only `hotUnits` each, so some orders end out_of_stock), and `customers` customers with
 * tokens. The scarce products follow the seed, so a replay with the same seed runs out of the
 * same ones. Customers come from `cache` when it has them (a --url target), so repeated runs
 * neither sign up nor sign in again.
 */
export async function setUpTarget(
  admin: LoadtestApi,
  url: string,
  o: { seed: number; runId: string; customers: number; hotStock: number | undefined; hotUnits: number; cache: CustomerCache },
): Promise<SetUp> {
  const products = await fetchAll<ProductSnapshot>(admin, '/v1/products');
  if (products.length === 0) throw new CliError('USAGE', `the catalog at ${url} is empty: seed it first (buildflow seed)`);
  const skus = seededShuffle(products.map((p) => p.sku).sort(), o.seed);
  const scarce = new Set(scarceRanks(skus.length, o.hotStock).map((r) => skus[r]!));
  const initialStock: Record<string, number> = {};
  await mapLimit(skus, 4, async (sku) => {
    const set = scarce.has(sku) ? o.hotUnits : AMPLE_STOCK;
    const view = await admin.post<ProductSnapshot>(`/v1/products/${encodeURIComponent(sku)}/stock`, { set, reason: `loadtest ${o.runId} set-up` });
    initialStock[sku] = view.onHand;
  });

  const anonymous = retryingClient(url);
  const how = { reused: 0, signedIn: 0, signedUp: 0 };
  const tokens = await mapLimit(Array.from({ length: o.customers }, (_, i) => i), 4, async (i) => {
    const cached = o.cache.get(i);
    if (cached?.token && (cached.expiresAt ?? 0) > Date.now() + TOKEN_MARGIN_MS && (await tokenWorks(url, cached.token))) {
      how.reused += 1;
      return cached.token;
    }
    if (cached) {
      const issued = await signIn(anonymous, cached);
      if (issued) {
        how.signedIn += 1;
        o.cache.set(i, { ...cached, ...issued });
        return issued.token;
      }
    }
    const fresh = o.cache.create(i);
    await signUp(anonymous, fresh, i);
    const issued = await signIn(anonymous, fresh);
    if (!issued) throw new CliError('UNAVAILABLE', `set-up: customer ${fresh.email} was signed up but cannot sign in`);
    how.signedUp += 1;
    o.cache.set(i, { ...fresh, ...issued });
    return issued.token;
  });
  o.cache.save();
  return { skus, initialStock, scarce: [...scarce], tokens, customers: how };
}

/** Whether the target still takes this token (it may have been reset or its secret changed). */
async function tokenWorks(url: string, token: string): Promise<boolean> {
  try {
    await retryingClient(url, token).get('/v1/me');
    return true;
  } catch (err) {
    if (err instanceof CliError && (err.status === 401 || err.status === 403)) return false;
    throw err;
  }
}

/** A token for the customer, or undefined when the target does not know these credentials (it was reset). */
async function signIn(api: LoadtestApi, c: CachedCustomer): Promise<{ token: string; expiresAt: number } | undefined> {
  try {
    const { token, expiresAt } = await api.post<{ token: string; expiresAt?: string }>('/v1/auth/token', { email: c.email, password: c.password });
    return { token, expiresAt: expiresAt ? Date.parse(expiresAt) : Date.now() + 60 * 60_000 };
  } catch (err) {
    if (err instanceof CliError && err.code === 'INVALID_CREDENTIALS') return undefined;
    throw err;
  }
}

async function signUp(api: LoadtestApi, c: CachedCustomer, i: number): Promise<void> {
  try {
    await api.post('/v1/customers', { email: c.email, name: `Load test customer ${i}`, password: c.password });
  } catch (err) {
    // A retried sign-up whose first answer was lost: the customer exists, with our password.
    if (err instanceof CliError && err.code === 'EMAIL_TAKEN') return;
    throw err;
  }
}
