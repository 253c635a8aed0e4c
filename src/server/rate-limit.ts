import { DEFAULTS } from '../core/defaults.js';

/**
 * A fixed-window counter per key, in this process's memory. Good enough for the embedded
 * deployment (one `serve` process); several API processes each count on their own (README).
 */
export class RateLimiter {
  private windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts one hit for `key`; returns the seconds to wait when the key is over its limit, else 0. */
  hit(key: string): number {
    const now = this.clock();
    if (this.windows.size > DEFAULTS.http.rateLimiterPruneAt) this.prune(now);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.count += 1;
    return w.count > this.limit ? Math.max(1, Math.ceil((w.resetAt - now) / 1000)) : 0;
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
  }
}
