import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigOverrides } from '../../src/core/config.js';
import { openBuildflow, type Buildflow, type OpenOptions } from '../../src/core/buildflow.js';
import { upsertProduct } from '../../src/core/catalog/products.js';
import { cancelOrder } from '../../src/core/cancellation/cancel-order.js';
import type { OrderView } from '../../src/core/orders/order-view.js';
import { ADMIN_CANCELLABLE, customerCancellable } from '../../src/core/domain/order-status.js';
import { TEST_REDIS_URL, freshPostgresDatabase, freshRedisPrefix, usesPostgres, usesRedis, type Backend } from './backends.js';

/** A fresh data directory under the OS temp dir; removed by the returned cleanup. */
export function tempDataDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'buildflow-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestApp extends Buildflow {
  dataDir: string;
  /** Closes the app and deletes its data directory. */
  dispose(): Promise<void>;
}

/**
 * Opens a migrated deployment that owns its data: a temp directory, on Postgres a fresh database,
 * with Redis a fresh key prefix, all removed by `dispose`. Payments are instant and scrypt cheap by default.
 */
export async function openTestApp(overrides: ConfigOverrides = {}, options: OpenOptions = {}, backend: Backend = 'sqlite'): Promise<TestApp> {
  const { dir, cleanup } = tempDataDir();
  const database = usesPostgres(backend) ? await freshPostgresDatabase() : undefined;
  const redis = usesRedis(backend) ? freshRedisPrefix() : undefined;
  const config = loadConfig(
    {
      BUILDFLOW_DATA_DIR: dir,
      BUILDFLOW_PAYMENT_LATENCY_MS: 0,
      BUILDFLOW_LOG_LEVEL: 'silent',
      BUILDFLOW_SCRYPT_COST: 1024,
      ...(database ? { BUILDFLOW_DATABASE_URL: database.url } : {}),
      ...(redis ? { BUILDFLOW_REDIS_URL: TEST_REDIS_URL, BUILDFLOW_REDIS_PREFIX: redis.prefix } : {}),
      ...overrides,
    },
    {},
  );
  const dropAll = async () => {
    await database?.drop();
    await redis?.drop();
    cleanup();
  };
  let app: Buildflow;
  try {
    app = await openBuildflow(config, { migrate: true, ...options });
  } catch (err) {
    // A test that expects the open to fail still leaves no database behind.
    await dropAll();
    throw err;
  }
  let disposed = false;
  return Object.assign(app, {
    dataDir: dir,
    // Idempotent: a file's afterEach may meet the same app again when a later test failed early.
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        await app.close();
      } finally {
        await dropAll();
      }
    },
  });
}

/** Adds a product with the given stock. */
export async function addProduct(app: Buildflow, sku: string, onHand: number, unitPriceCents = 1000, category = 'tools'): Promise<void> {
  await upsertProduct(app.units, { sku, name: `Product ${sku}`, category, unitPriceCents, onHand });
}

/** Cancels an order as its customer (until BUILDFLOW_CUSTOMER_CANCEL_UNTIL) or as the admin, as the cancel route does. */
export function cancelAs(app: Buildflow, idOrReference: string, by: 'customer' | 'admin' = 'customer'): Promise<OrderView> {
  return cancelOrder(app.units, idOrReference, by === 'admin' ? ADMIN_CANCELLABLE : customerCancellable(app.config.customerCancelUntil));
}
