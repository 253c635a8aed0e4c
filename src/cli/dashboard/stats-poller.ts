import type { StatsSnapshot } from '../../core/stats/snapshot-types.js';

/** Fetches one snapshot; rejects with a CliError-like `{ code, message }` on failure. */
export type FetchSnapshot = () => Promise<StatsSnapshot>;

export interface PollResult {
  snapshot?: StatsSnapshot;
  error?: { code: string; message: string };
}

/**
 * Polls every `intervalMs`, one request at a time: the next waits for the previous to settle, and
 * the interval runs from then. `refresh()` asks for a poll now (or right after the one in flight).
 * Paused, it fetches nothing.
 */
export class StatsPoller {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private again = false;
  private stopped = false;
  private paused = false;

  constructor(
    private readonly fetch: FetchSnapshot,
    private readonly intervalMs: number,
    private readonly onResult: (result: PollResult) => void,
  ) {}

  start(): void {
    void this.poll();
  }

  refresh(): void {
    if (this.stopped || this.paused) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    void this.poll();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.refresh();
    else clearTimeout(this.timer);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.paused) return;
    this.inFlight = true;
    let result: PollResult;
    try {
      result = { snapshot: await this.fetch() };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      result = { error: { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) } };
    }
    this.inFlight = false;
    if (this.stopped) return;
    this.onResult(result);
    if (this.paused) return;
    if (this.again) {
      this.again = false;
      void this.poll();
      return;
    }
    this.timer = setTimeout(() => void this.poll(), this.intervalMs);
  }
}
