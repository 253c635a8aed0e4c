import { WakeSignal } from '../core/outbox/wake-signal.js';
import type { Logger } from './logger.js';
import { DEFAULTS } from '../core/defaults.js';

export interface PumpOptions {
  /** Most rows handled at once: a slow receiver holds one slot, never the pipeline. */
  concurrency: number;
  /** How often to look for due rows when there was nothing to do. */
  pollMs: number;
}

/**
 * One claim loop that keeps up to `concurrency` deliveries in flight: it claims as many due rows
 * as there are free slots, runs each on its own, and claims again as slots free up. One query
 * per poll when idle, however large the concurrency.
 */
export class DeliveryPump<Row> {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slotFreed = new WakeSignal();

  constructor(
    private readonly name: string,
    private readonly claim: (limit: number) => Promise<Row[]>,
    private readonly handle: (row: Row) => Promise<void>,
    private readonly logger: Logger,
    private readonly options: PumpOptions,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const free = this.options.concurrency - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const rows = await this.claim(free);
          claimed = rows.length;
          for (const row of rows) this.track(row);
        } catch (err) {
          this.logger.error({ err: (err as Error).message, pump: this.name }, 'claiming deliveries failed; backing off');
        }
      }
      if (this.stopping) break;
      // Claim again at once only when the claim filled every slot it could and one is free.
      if (claimed === 0 || this.inFlight.size >= this.options.concurrency) await this.slotFreed.wait(this.options.pollMs);
    }
  }

  private track(row: Row): void {
    const p = this.handle(row)
      .catch((err: unknown) => this.logger.error({ err: (err as Error).message, pump: this.name }, 'delivery failed unexpectedly; its lease will lapse and it is retried'))
      .finally(() => {
        this.inFlight.delete(p);
        this.slotFreed.wake();
      });
    this.inFlight.add(p);
  }

  /** Looks for due rows now instead of at the next poll (new deliveries committed in this process). */
  wake(): void {
    this.slotFreed.wake();
  }

  /** Stops claiming and waits (up to `timeoutMs`) for the deliveries in flight. */
  async stop(timeoutMs: number = DEFAULTS.deliveries.stopMs): Promise<void> {
    this.stopping = true;
    this.slotFreed.wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([this.loop, ...this.inFlight]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}
