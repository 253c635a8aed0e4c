import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { openRedis } from '../redis/open-redis.js';
import { withTimeout } from '../timeout.js';
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
  /** Resolves when the cache's server answers within `timeoutMs`; rejects saying why not. */
  ping(timeoutMs: number): Promise<void>;
  /** Adds a listener for the cache becoming unusable or usable again; returns its removal. */
  onAvailability(listener: CacheAvailability): () => void;
  close(): Promise<void>;
}

/** Reported once when the cache becomes unusable (`up` false, with the reason) and once when it is back. */
export type CacheAvailability = (up: boolean, reason?: string) => void;

/**
 * The most a cache command may take before the read goes to the database instead: a cached read
 * exists to be faster than the database, so a slow Redis is treated as a miss soon.
 */
export const CACHE_COMMAND_TIMEOUT_MS = 250;

/**
 * Embedded deployments read SQLite in microseconds, and a second process on the same file (a
 * `buildflow worker`) could not invalidate an in-process cache; so there is none.
 */
export const noProductCache: ProductCache = {
  get: async () => undefined,
  set: async () => {},
  invalidate: async () => {},
  ping: async () => {},
  onAvailability: () => () => {},
  close: async () => {},
};

/**
 * Product views in Redis under `<prefix>:product:<sku>` for at most `ttlMs` (the bound on how long
 * a lost invalidation can leave an entry stale). A Redis failure degrades to a database read, at
 * once while the client is not connected (no command waits for a reconnect) and after
 * {@link CACHE_COMMAND_TIMEOUT_MS} when a connected Redis is slow. The outage is reported once,
 * and its end once, to the {@link onAvailability} listeners, not per request.
 */
export class RedisProductCache implements ProductCache {
  private up = true;
  private lastError: Error | undefined;
  private listeners: CacheAvailability[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {
    // Remembered, and reported when a read meets the outage: listeners added after the client
    // first failed to connect (a process's log) still hear of it.
    redis.on('error', (err: Error) => (this.lastError = err));
    redis.on('ready', () => {
      if (this.up) return;
      this.up = true;
      this.report(true);
    });
  }

  private down(err: Error): void {
    if (!this.up) return;
    this.up = false;
    this.report(false, err.message || (err as NodeJS.ErrnoException).code || err.name);
  }

  onAvailability(listener: CacheAvailability): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private report(up: boolean, reason?: string): void {
    for (const listener of this.listeners) {
      try {
        listener(up, reason);
      } catch {
        // Watching the cache must not break the read that noticed the change.
      }
    }
  }

  private onError(err: Error): void {
    this.down(err);
  }

  /** False while the client is not connected: the caller goes to the database without waiting. */
  private get usable(): boolean {
    if (this.redis.status === 'ready') return true;
    // Still making its first connection: not an outage yet.
    if (this.lastError) this.down(this.lastError);
    return false;
  }

  private key(sku: string): string {
    return `${this.prefix}:product:${sku}`;
  }

  async get(sku: string): Promise<ProductView | undefined> {
    if (!this.usable) return undefined;
    try {
      const hit = await this.redis.get(this.key(sku));
      return hit ? (JSON.parse(hit) as ProductView) : undefined;
    } catch (err) {
      this.onError(err as Error);
      return undefined;
    }
  }

  async set(product: ProductView): Promise<void> {
    if (this.ttlMs === 0 || !this.usable) return;
    try {
      await this.redis.set(this.key(product.sku), JSON.stringify(product), 'PX', this.ttlMs);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  async invalidate(skus: readonly string[]): Promise<void> {
    if (skus.length === 0) return;
    // Known to be down: the entry expires within the TTL, as when a delete fails. Still making its
    // first connection (a CLI command that just started): the delete waits for it, bounded.
    if (this.redis.status !== 'ready' && this.lastError) {
      this.down(this.lastError);
      return;
    }
    try {
      await this.redis.del(...skus.map((s) => this.key(s)));
    } catch (err) {
      // The entry expires within the TTL; the write itself has committed and must not fail for this.
      this.onError(err as Error);
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    // Known to be down: say so at once. Still making its first connection (a server that has just
    // started): the PING waits in the client's queue for it, within the bound.
    if (this.redis.status !== 'ready' && this.lastError) {
      this.down(this.lastError);
      throw new Error(`not connected (${this.redis.status}): ${this.lastError.message}`);
    }
    await withTimeout(this.redis.ping(), timeoutMs, 'PING');
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** The product cache a deployment's configuration asks for: Redis when BUILDFLOW_REDIS_URL is set. */
export function openProductCache(config: Config): ProductCache {
  const { url, prefix, cacheTtlMs } = config.redis;
  return url ? new RedisProductCache(openRedis(url, () => {}, { commandTimeoutMs: CACHE_COMMAND_TIMEOUT_MS }), prefix, cacheTtlMs) : noProductCache;
}
