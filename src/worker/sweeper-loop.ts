import type { Kysely } from 'kysely';
import type { Database } from '../core/db/schema.js';
import { sweep } from '../core/pipeline/sweeper.js';
import type { WakeSignal } from '../core/outbox/wake-signal.js';
import type { OrderFinalNote } from '../core/observe/events.js';
import type { Logger } from './logger.js';

/** Runs the sweeper every `intervalMs` until stopped. */
export class SweeperLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly signal: WakeSignal,
    private readonly logger: Logger,
    private readonly options: {
      intervalMs: number;
      stuckAfterMs: number;
      onStockChanged?: (skus: string[]) => void;
      /** Seam: orders the sweeper cancelled (expired reservations), once committed. */
      onOrdersFinal?: (notes: OrderFinalNote[]) => void;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async tick(): Promise<void> {
    try {
      const result = await sweep(this.db, {
        now: Date.now(),
        stuckAfterMs: this.options.stuckAfterMs,
        ...(this.options.onOrdersFinal ? { onOrdersFinal: this.options.onOrdersFinal } : {}),
      });
      if (result.stockChanged.length > 0) this.options.onStockChanged?.(result.stockChanged);
      if (result.expired + result.redriven > 0) {
        this.logger.info(result, 'sweeper repaired orders');
        this.signal.wake();
      }
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'sweep failed');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
