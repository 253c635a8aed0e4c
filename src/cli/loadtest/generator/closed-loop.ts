import type { Generator } from './generator.js';

export interface LoopResult {
  startedAt: number;
  endedAt: number;
  /** Operations that were due but never sent (open loop only). */
  dropped: number;
}

/**
 * Closed loop: `connections` callers, each sending its next operation as soon as the previous one
 * is answered. Latency is each request's own time; a stalled target slows the senders down and
 * hides how long users would have waited (coordinated omission), which the open loop corrects.
 */
export async function runClosedLoop(gen: Generator, o: { connections: number; durationMs?: number | undefined; orders?: number | undefined; stopped: () => boolean }): Promise<LoopResult> {
  const startedAt = Date.now();
  const deadline = o.durationMs === undefined ? Infinity : startedAt + o.durationMs;
  let next = 0;
  let orders = 0;
  const more = () => !o.stopped() && Date.now() < deadline && (o.orders === undefined || orders < o.orders);
  async function caller(): Promise<void> {
    while (more()) {
      const op = gen.workload.opAt(next++);
      if (op.kind === 'order') orders += 1;
      await gen.run(op, Date.now());
    }
  }
  await Promise.all(Array.from({ length: o.connections }, caller));
  return { startedAt, endedAt: Date.now(), dropped: 0 };
}
