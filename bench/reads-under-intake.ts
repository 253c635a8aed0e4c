/**
 * Reads on the main thread while the SQLite commit thread commits orders: how long a read waits,
 * and how long the event loop stalls. It measures whether reads need the cross-thread write lock
 * (db/sqlite/thread-write-lock.ts): a read that waited for it would wait out the commit thread's
 * whole batch transaction, fsync included; one that met SQLite's own lock instead would sleep in
 * the busy handler and show up as an event-loop stall.
 *
 *   npm run build && node dist/bench/reads-under-intake.js
 *     BENCH_SECONDS=10, BENCH_CONNECTIONS=64 order placers, one reader looping on the main thread
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { benchApp, envInt, orderBody, percentile, runBench } from './common.js';

const seconds = envInt('BENCH_SECONDS', 10);
const placers = envInt('BENCH_CONNECTIONS', 64);

await runBench('reads under intake', 120, async () => {
  const { app, dispose } = await benchApp();
  try {
    const first = await app.placeOrder(orderBody(0));
    const until = Date.now() + seconds * 1000;
    let placed = 0;
    const place = async (i: number) => {
      while (Date.now() < until) {
        await app.placeOrder(orderBody(i));
        placed++;
      }
    };
    const reads: number[] = [];
    const read = async () => {
      while (Date.now() < until) {
        const t = performance.now();
        await app.db.selectFrom('orders').select(['id', 'status']).where('id', '=', first.id).executeTakeFirst();
        reads.push(performance.now() - t);
        // A reader that yields as an HTTP handler would between requests.
        await new Promise((r) => setImmediate(r));
      }
    };
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    await Promise.all([read(), ...Array.from({ length: placers }, (_, i) => place(i))]);
    loop.disable();
    reads.sort((a, b) => a - b);
    const ms = (x: number) => x.toFixed(3);
    console.log(
      `orders ${(placed / seconds).toFixed(0)}/s; reads ${reads.length} p50 ${ms(percentile(reads, 50))} ms p99 ${ms(percentile(reads, 99))} ms max ${ms(reads.at(-1)!)} ms; ` +
        `event loop delay p99 ${ms(loop.percentile(99) / 1e6)} ms max ${ms(loop.max / 1e6)} ms`,
    );
  } finally {
    await dispose();
  }
});
