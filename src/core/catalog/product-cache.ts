import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { openRedis } from '../redis/open-redis.js';
import type { ProductView } from './products.js';

/**
 * Cache-aside for product reads. It only ever serves display reads: reservations always go to the
 * database, so a stale entry can never accept or reject an order.
 */
export interface ProductCache {
  get(sku: string): Promise<ProductView | undefined>;
  set(product: ProductView): Promise<void>;
  /** Drops entries after a committed stock or price change. */
  invalidate(skus: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Embedded deployments read SQLite in microseconds, and a second process on the same file (a
 * `buildflow worker`) could not invalidate an in-process cache; so there is none.
 */
export const noProductCache: ProductCache = {
  get: async () => undefined,
  set: async () => {},
  invalidate: async () => {},
  close: async () => {},
};

/**
 * Product views in Redis under `<prefix>:product:<sku>` for at most `ttlMs` (the bound on how long
 * a lost invalidation can leave an entry stale). A Redis failure degrades to a database read.
 */
export class RedisProductCache implements ProductCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  private key(sku: string): string {
    return `${this.prefix}:product:${sku}`;
  }

  async get(sku: string): Promise<ProductView | undefined> {
    try {
      const hit = await this.redis.get(this.key(sku));
      return hit ? (JSON.parse(hit) as ProductView) : undefined;
    } catch (err) {
      this.onError(err as Error);
      return undefined;
    }
  }

  async set(product: ProductView): Promise<void> {
    if (this.ttlMs === 0) return;
    try {
      await this.redis.set(this.key(product.sku), JSON.stringify(product), 'PX', this.ttlMs);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  async invalidate(skus: readonly string[]): Promise<void> {
    if (skus.length === 0) return;
    try {
      await this.redis.del(...skus.map((s) => this.key(s)));
    } catch (err) {
      // The entry expires within the TTL; the write itself has committed and must not fail for this.
      this.onError(err as Error);
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** The product cache a deployment's configuration asks for: Redis when BUILDFLOW_REDIS_URL is set. */
export function openProductCache(config: Config): ProductCache {
  const { url, prefix, cacheTtlMs } = config.redis;
  return url ? new RedisProductCache(openRedis(url), prefix, cacheTtlMs) : noProductCache;
}
