import type { ArrivalSchedule } from './arrival-schedule.js';
import type { LoopResult } from './closed-loop.js';
import type { Generator } from './generator.js';

/**
 * Open loop: operation i is due when the schedule says (start + i/rate at a constant rate),
 * whatever the target does. Each request's latency counts from when it was due (as wrk2 and
 * k6's arrival-rate executors do), so time spent waiting for a free connection behind a stalled
 * target is part of it. At most `connections` requests are in flight; operations still waiting
 * for one when the time is up are dropped.
 */
export async function runOpenLoop(
  gen: Generator,
  o: { schedule: ArrivalSchedule; connections: number; orders?: number | undefined; stopped: () => boolean },
): Promise<LoopResult> {
  const startedAt = Date.now();
  // With --orders and no duration, the schedule ends with the operation that places the last order.
  const lastDue = startedAt + o.schedule.endMs;
  let next = 0;
  let orders = 0;
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let done = false;

  const dueAt = (i: number) => {
    const offset = o.schedule.offsetOf(i);
    return offset === undefined ? Infinity : startedAt + offset;
  };
  // Set by the first pump at or past the end: operations due before it that found a free
  // connection then were sent (late, and counted so); those still waiting for one are dropped.
  // So a generator held up for a few ms at the very end does not drop the last slots due.
  let closing = false;
  const scheduleOver = () => o.stopped() || closing || dueAt(next) >= lastDue || (o.orders !== undefined && orders >= o.orders);

  function pump(): void {
    if (done) return;
    const ending = Date.now() >= lastDue;
    while (inFlight < o.connections && !scheduleOver() && dueAt(next) <= Date.now()) {
      const op = gen.workload.opAt(next);
      const scheduled = dueAt(next);
      next += 1;
      if (op.kind === 'order') orders += 1;
      inFlight += 1;
      void gen.run(op, scheduled).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
    if (ending) closing = true;
    if (scheduleOver()) {
      // Requests still out call pump again when they end.
      if (inFlight === 0) {
        done = true;
        finish();
      }
      return;
    }
    // With every connection busy, the next request to end wakes the schedule instead.
    if (inFlight < o.connections && timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, Math.max(0, dueAt(next) - Date.now()));
    }
  }

  pump();
  await finished;
  if (timer) clearTimeout(timer);
  const endedAt = Date.now();
  let dropped = 0;
  if (Number.isFinite(lastDue) && !o.stopped()) {
    // Every slot up to the deadline was due; those never sent were dropped.
    const dueCount = o.schedule.dueBefore(o.schedule.endMs);
    dropped = Math.max(0, dueCount - next);
  }
  return { startedAt, endedAt, dropped };
}
