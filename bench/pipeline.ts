/**
 * Pipeline benchmark: orders fully processed per second (placed → confirmed) on the embedded
 * default, simulated payment with no latency, orders acknowledged durably (WAL fsynced).
 *
 *   npm run build && node dist/bench/pipeline.js          (BENCH_ORDERS=20000 BENCH_CONCURRENCY=2)
 *
 * A producer places orders through intake as fast as it is allowed (at most BENCH_IN_FLIGHT
 * unconfirmed at once, so the queue stays bounded) while in-process workers run; throughput is
 * orders confirmed per second of wall time, latency is created → confirmed from the order history.
 */
import { sql } from 'kysely';
import { startWorkers } from '../src/worker/start-workers.js';
import { benchApp, envInt, orderBody, percentile } from './common.js';

const total = envInt('BENCH_ORDERS', 20_000);
const concurrency = envInt('BENCH_CONCURRENCY', 2);
const inFlight = envInt('BENCH_IN_FLIGHT', 2_000);

// Counts the few orders still in progress (indexed by status) rather than the many confirmed ones,
// so watching progress costs the pipeline little.
async function inProgressCount(db: Awaited<ReturnType<typeof benchApp>>['app']['db']): Promise<number> {
  const row = await db
    .selectFrom('orders')
    .select(sql<number>`count(*)`.as('n'))
    .where('status', 'in', ['pending', 'reserved', 'paid'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function main(): Promise<void> {
  const { app, dispose } = await benchApp();
  const workers = startWorkers(app, { concurrency, roles: { sweeper: false }, batchSize: envInt('BENCH_BATCH', 512) });
  console.log(`pipeline benchmark: ${total} orders, ${concurrency} worker loops, node ${process.version}`);

  const started = Date.now();
  let placed = 0;
  while (placed < total) {
    const room = Math.min(inFlight - (await inProgressCount(app.db)), total - placed);
    if (room <= 0) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    await Promise.all(Array.from({ length: room }, (_, i) => app.placeOrder(orderBody(placed + i))));
    placed += room;
  }
  while ((await inProgressCount(app.db)) > 0) {
    if (Date.now() - started > 10 * 60_000) throw new Error('orders still in progress after 10 minutes');
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsedMs = Date.now() - started;
  await workers.stop();

  const rows = await app.db
    .selectFrom('order_history as h')
    .innerJoin('orders as o', 'o.id', 'h.order_id')
    .select(sql<number>`h.at - o.created_at`.as('ms'))
    .where('h.to_status', '=', 'confirmed')
    .execute();
  const latencies = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
  const cancelled = await app.db.selectFrom('orders').select(sql<number>`count(*)`.as('n')).where('status', '=', 'cancelled').executeTakeFirstOrThrow();
  console.log(`confirmed ${total} orders in ${(elapsedMs / 1000).toFixed(2)} s: ${((total * 1000) / elapsedMs).toFixed(0)} orders/s (goal >= 2000)`);
  console.log(`placed → confirmed: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms; cancelled ${Number(cancelled.n)}`);
  await dispose();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
