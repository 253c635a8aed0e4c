import type { UnitRunner } from '../core/db/unit-of-work.js';
import { sweep } from '../core/pipeline/sweeper.js';
import type { Logger } from './logger.js';

/** Runs the sweeper every `intervalMs` until stopped. */
export class SweeperLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly units: UnitRunner,
    private readonly logger: Logger,
    private readonly options: { intervalMs: number; stuckAfterMs: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async tick(): Promise<void> {
    try {
      // Cache invalidation and wake-ups are the units of work's after-commit hooks.
      const result = await sweep(this.units, { now: Date.now(), stuckAfterMs: this.options.stuckAfterMs });
      if (result.expired + result.redriven > 0) this.logger.info(result, 'sweeper repaired orders');
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'sweep failed');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
