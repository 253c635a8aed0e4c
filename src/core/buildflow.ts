import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { Database } from './db/schema.js';
import { migrateToLatest } from './db/migrate.js';
import { openStorage } from './db/open-storage.js';
import { OrderIntake, type PlaceOrderInput, type PlaceOrderResult } from './orders/intake.js';
import { WakeSignal } from './outbox/wake-signal.js';
import type { UnitRunner } from './db/unit-of-work.js';
import { deploymentUnits } from './deployment-units.js';
import { SimulatedPaymentGateway, type PaymentGateway } from './pipeline/payment-gateway.js';
import { openProductCache, type ProductCache } from './catalog/product-cache.js';
import { getProduct, type ProductView } from './catalog/products.js';

/**
 * One opened deployment: the database, the payment gateway, the in-process wake signal and the
 * units of work every write use case runs in. Server, workers and CLI all start here.
 */
export interface Buildflow {
  config: Config;
  db: Kysely<Database>;
  gateway: PaymentGateway;
  signal: WakeSignal;
  /**
   * Every write use case runs in these units of work (`useCase(app.units, input)`), and
   * `units.onCommit(hook)` is the one channel that hears of what committed: placed orders,
   * transitions, step outcomes, stock changes and other records. Cached stock is dropped and
   * workers and relays woken by hooks registered here; metrics and logs add theirs.
   */
  units: UnitRunner;
  /** Product reads for display; Redis when BUILDFLOW_REDIS_URL is set, else none. */
  cache: ProductCache;
  placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult>;
  /** One product, from the cache when it holds it. */
  getProduct(sku: string): Promise<ProductView>;
  /**
   * Resolves once every transaction committed so far survives power loss. Units that ask for
   * durability wait on it after their commit, so a write use case never needs a caller to.
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Apply pending migrations on open (serve, worker and migrate do; read-only tools need not). */
  migrate?: boolean;
  /** Replace the simulated payment provider. */
  gateway?: PaymentGateway;
}

// The SQLite commit thread's entry, beside this module in every form the code runs in: compiled
// (dist/src/core/), bundled (dist/cli/, see rollup.config.js) and as source under the test runner,
// whose loader (test/helpers/ts-threads.mjs) lets the thread run the .ts file.
const COMMIT_THREAD = new URL(import.meta.url.endsWith('.ts') ? './commit-thread.ts' : './commit-thread.js', import.meta.url);

/** Opens the embedded deployment described by `config`. */
export async function openBuildflow(config: Config, options: OpenOptions = {}): Promise<Buildflow> {
  const storage = openStorage(config, { commitThread: COMMIT_THREAD });
  const { db, sync } = storage;
  try {
    if (options.migrate) await migrateToLatest(db);
    let gateway = options.gateway;
    if (!gateway) {
      const simulated = new SimulatedPaymentGateway(storage.gatewayDb, config.payment);
      await simulated.ensureSchema();
      gateway = simulated;
    }
    const signal = new WakeSignal();
    const cache = openProductCache(config);
    // Through app.sync, so whoever holds the deployment holds the one durability seam (a test may hold the fsync back).
    const units = deploymentUnits(db, { sync: () => app.sync(), cache: () => cache, signal, sendsEmail: config.mail !== undefined });
    // Intake's commits are units too (on the SQLite commit thread or in process): what they place
    // goes out on the units' channel like any unit's work.
    const commits = storage.commits(units);
    const intake = new OrderIntake(commits, config.maxItemsPerOrder);
    const app: Buildflow = {
      config,
      db,
      gateway,
      signal,
      units,
      cache,
      // The method itself, so a route's call lands in intake with no stop here.
      placeOrder: intake.place.bind(intake),
      getProduct: (sku) => getProduct(db, sku, cache),
      sync,
      async close() {
        await commits.close();
        await cache.close();
        await storage.close();
      },
    };
    return app;
  } catch (err) {
    await storage.close();
    throw err;
  }
}
