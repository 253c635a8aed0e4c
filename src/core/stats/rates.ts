import type { RateWindows, StatsCounters, StatsRates } from './snapshot-types.js';
import { DEFAULTS } from '../defaults.js';

interface Sample {
  at: number;
  counters: StatsCounters;
}

const WINDOWS = { '1s': 1000, '10s': 10_000, '60s': 60_000 } as const;

const KEEP_MS = DEFAULTS.stats.rateKeepMs;

/**
 * Rates over 1, 10 and 60 s from the counters of successive snapshots. A window's rate uses the
 * newest sample at least that old (so with polls every 2 s the 1 s rate spans 2 s); a window no
 * sample reaches back to is null.
 */
export class RateTracker {
  private samples: Sample[] = [];

  /** Records a sample and returns the rates as of it. */
  add(at: number, counters: StatsCounters): StatsRates {
    this.samples = this.samples.filter((s) => at - s.at <= KEEP_MS && s.at < at);
    const rates: StatsRates = { placed: blank(), confirmed: blank(), cancelled: blank() };
    for (const [name, ms] of Object.entries(WINDOWS) as [keyof RateWindows, number][]) {
      let base: Sample | undefined;
      for (const s of this.samples) if (at - s.at >= ms) base = s;
      if (!base) continue;
      const seconds = (at - base.at) / 1000;
      rates.placed[name] = round((counters.ordersPlaced - base.counters.ordersPlaced) / seconds);
      rates.confirmed[name] = round((counters.ordersConfirmed - base.counters.ordersConfirmed) / seconds);
      rates.cancelled[name] = round((counters.ordersCancelled - base.counters.ordersCancelled) / seconds);
    }
    this.samples.push({ at, counters: { ...counters } });
    return rates;
  }
}

function blank(): RateWindows {
  return { '1s': null, '10s': null, '60s': null };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
