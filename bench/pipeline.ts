/**
 * Pipeline benchmark: orders fully processed per second (placed → confirmed), simulated payment
 * with no latency, orders acknowledged durably, measured in one run for each deployment:
 *
 *   embedded          SQLite, workers in the bench process (outbox claimed from the database)
 *   postgres × N      Postgres alone, N separate `buildflow worker --concurrency C` processes that
 *                     claim outbox rows from the database (the embedded transport on Postgres)
 *   pg+redis × N      Postgres + Redis, N separate `buildflow worker --concurrency C` processes
 *                     (relay, steps and sweeper in each); orders placed by the bench process
 *
 *   npm run build && node dist/bench/pipeline.js
 *
 *   BENCH_ORDERS=5000         orders per cell
 *   BENCH_IN_FLIGHT=2000      most orders placed but not yet confirmed
 *   BENCH_CONCURRENCY=2       worker concurrency (in-process workers and `worker --concurrency`)
 *   BENCH_RATE=0              open loop: place orders at this fixed rate (orders/s) whatever the
 *                             pipeline's progress, instead of keeping BENCH_IN_FLIGHT in flight;
 *                             latency then is what an order waits at that load (run it at about
 *                             half a cell's closed-loop figure)
 *   BENCH_BACKEND=all         or sqlite, postgres, postgres+redis (comma-separated)
 *   BENCH_PROCESSES=1,2       worker processes of each scale-out cell (0: workers in the bench process)
 *   BENCH_PRODUCTS=8          products the orders spread over (see orderBody in common.ts)
 *   BENCH_CELL_TIMEOUT_S=150  a cell still running then is stopped and reported as not finished
 *   BENCH_TIMEOUT_S=900       hard bound on the whole run (aborts, cleans up, exits 1)
 *   BUILDFLOW_* tuning (BUILDFLOW_RELAY_POLL_MS, BUILDFLOW_DATABASE_POOL_MAX, …) applies to every cell
 *
 * A producer places orders through core intake as fast as it is allowed (at most BENCH_IN_FLIGHT
 * unconfirmed at once, so queues stay bounded); throughput is orders confirmed per second of wall
 * time, latency is created → confirmed from the order history. With the queue kept full, latency
 * is mostly waiting (≈ in-flight / throughput); the step table says where the time goes.
 *
 * Per cell it also prints CPU per order by process kind, Postgres statements per order (counted in
 * the clients: the bench process and each worker, which reports its count when it stops; the
 * server has no pg_stat_statements here), Postgres tuples written per order (inserted, updated and
 * deleted rows of the cell's database, intake and seeding included; HOT updates beside them), Redis
 * commands per order (those naming the cell's key prefix, from MONITOR), commits per order and deadlocks of the
 * cell's own database.
 */
import { availableParallelism } from 'node:os';
import { sql } from 'kysely';
import { startWorkers } from '../src/worker/start-workers.js';
import { postgresStatementCount } from '../src/core/db/postgres.js';
import {
  backendsFromEnv,
  benchDeployment,
  benchProducts,
  envInt,
  envInts,
  orderBody,
  percentile,
  postgresStats,
  postgresTuples,
  progress,
  countRedisCommands,
  runBench,
  startCpu,
  tuningEnv,
  type Backend,
  type BenchDeployment,
  type CpuUsed,
} from './common.js';
import { startWorkerProcesses } from './worker-processes.js';

const total = envInt('BENCH_ORDERS', 5_000);
const concurrency = envInt('BENCH_CONCURRENCY', 2);
const inFlight = envInt('BENCH_IN_FLIGHT', 2_000);
const processCounts = envInts('BENCH_PROCESSES', [1, 2]);
const cellTimeoutMs = envInt('BENCH_CELL_TIMEOUT_S', 150) * 1000;
const rate = envInt('BENCH_RATE', 0);

type Db = BenchDeployment['app']['db'];

interface StepRow {
  step: string;
  /** p50 ms from the order entering the status the step moves on (placed, for reserve) to the step's commit. */
  p50: number;
  /** p99 of the same. */
  p99: number;
}

interface CellResult {
  name: string;
  confirmed: number;
  /** False when the cell hit BENCH_CELL_TIMEOUT_S: the figures cover the orders confirmed by then. */
  finished: boolean;
  ordersPerS: number;
  p50: number;
  p99: number;
  max: number;
  cancelled: number;
  steps: StepRow[];
  elapsedMs: number;
  /** Worker processes (0: workers in the bench process). */
  processes: number;
  cpu?: CpuUsed;
  pg?: { commits: number; rollbacks: number; deadlocks: number };
  /** Postgres statements sent by the bench process and the workers during the cell. */
  statements?: number;
  /** Redis commands run by the (shared) server during the cell. */
  redisCommands?: number;
  /** Rows the cell's database wrote (inserted, updated, deleted), and HOT updates among them. */
  tuples?: { written: number; hotUpdates: number; provider: number };
}

// Counts the few orders still in progress (indexed by status) rather than the many confirmed ones,
// so watching progress costs the pipeline little.
async function inProgressCount(db: Db): Promise<number> {
  const row = await db.selectFrom('orders').select(sql<number>`count(*)`.as('n')).where('status', 'in', ['pending', 'reserved', 'paid']).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Places `total` orders, keeping at most `inFlight` unconfirmed, and waits until none is in
 * progress or the cell's time is up; returns the wall time and whether every order finished.
 */
async function drive(name: string, d: BenchDeployment): Promise<{ elapsedMs: number; finished: boolean }> {
  const { app } = d;
  const started = Date.now();
  const late = (): boolean => Date.now() - started > cellTimeoutMs;
  let placed = 0;
  while (placed < total) {
    const open = await inProgressCount(app.db);
    progress.now = `${name}: placed ${placed}/${total}, ${open} in progress`;
    if (late()) return { elapsedMs: Date.now() - started, finished: false };
    const room = Math.min(inFlight - open, total - placed);
    if (room <= 0) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    await Promise.all(Array.from({ length: room }, (_, i) => app.placeOrder(orderBody(placed + i))));
    placed += room;
  }
  for (;;) {
    const open = await inProgressCount(app.db);
    progress.now = `${name}: all ${total} placed, ${open} still in progress`;
    if (open === 0) return { elapsedMs: Date.now() - started, finished: true };
    if (late()) return { elapsedMs: Date.now() - started, finished: false };
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Open loop: places `total` orders at `rate` per second, whatever the pipeline's progress, then waits for them all. */
async function driveAtRate(name: string, d: BenchDeployment): Promise<{ elapsedMs: number; finished: boolean }> {
  const { app } = d;
  const started = Date.now();
  const late = (): boolean => Date.now() - started > cellTimeoutMs;
  let placed = 0;
  const inFlightOrders = new Set<Promise<unknown>>();
  while (placed < total) {
    if (late()) return { elapsedMs: Date.now() - started, finished: false };
    const due = Math.min(total, Math.floor(((Date.now() - started) * rate) / 1000));
    for (; placed < due; placed++) {
      const p = app.placeOrder(orderBody(placed)).finally(() => inFlightOrders.delete(p));
      inFlightOrders.add(p);
    }
    progress.now = `${name}: placed ${placed}/${total} at ${rate}/s`;
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inFlightOrders);
  for (;;) {
    const open = await inProgressCount(app.db);
    progress.now = `${name}: all ${total} placed, ${open} still in progress`;
    if (open === 0) return { elapsedMs: Date.now() - started, finished: true };
    if (late()) return { elapsedMs: Date.now() - started, finished: false };
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measure(name: string, d: BenchDeployment, run: { elapsedMs: number; finished: boolean }): Promise<Omit<CellResult, 'processes'>> {
  const db = d.app.db;
  const rows = await db
    .selectFrom('order_history as h')
    .innerJoin('orders as o', 'o.id', 'h.order_id')
    .select(sql<number>`h.at - o.created_at`.as('ms'))
    .where('h.to_status', '=', 'confirmed')
    .execute();
  const latencies = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
  const counts = await db.selectFrom('orders').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
  const count = (s: string): number => Number(counts.find((c) => c.status === s)?.n ?? 0);
  if (run.finished && count('confirmed') + count('cancelled') !== total) {
    throw new Error(`${name}: expected ${total} orders confirmed or cancelled, found ${counts.map((c) => `${c.status} ${c.n}`).join(', ')}`);
  }
  return {
    name,
    confirmed: count('confirmed'),
    finished: run.finished,
    ordersPerS: (count('confirmed') * 1000) / run.elapsedMs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    cancelled: count('cancelled'),
    steps: await stepTimes(db),
    elapsedMs: run.elapsedMs,
  };
}

/** Per step of confirmed orders: p50 and p99 from the status before the step to the status after it, from the order history. */
async function stepTimes(db: Db): Promise<StepRow[]> {
  const rows = await db.selectFrom('order_history').select(['order_id', 'to_status', 'at']).where('to_status', 'in', ['pending', 'reserved', 'paid', 'confirmed']).execute();
  const at = new Map<string, Map<string, number>>();
  for (const r of rows) {
    let m = at.get(r.order_id);
    if (!m) at.set(r.order_id, (m = new Map()));
    m.set(r.to_status, Number(r.at));
  }
  const steps: [string, string, string][] = [['reserve', 'pending', 'reserved'], ['pay', 'reserved', 'paid'], ['confirm', 'paid', 'confirmed']];
  return steps.map(([step, from, to]) => {
    const ms = [...at.values()].filter((m) => m.has('confirmed')).map((m) => m.get(to)! - m.get(from)!).sort((a, b) => a - b);
    return { step, p50: percentile(ms, 50), p99: percentile(ms, 99) };
  });
}

/** One cell: a fresh deployment, its workers (in-process or `processes` × `buildflow worker`), the run, the figures. */
async function cell(backend: Backend, processes: number): Promise<CellResult> {
  const kind = backend === 'postgres' ? 'postgres' : 'pg+redis';
  const name = backend === 'sqlite' ? 'embedded (sqlite, in-process)' : processes === 0 ? `${kind}, workers in-process` : `${kind}, ${processes} worker process${processes > 1 ? 'es' : ''}`;
  progress.now = `${name}: setting up`;
  const d = await benchDeployment(backend);
  try {
    let stop: () => Promise<unknown>;
    let pids: number[] = [];
    let workerStatements: () => number | undefined = () => 0;
    if (processes === 0) {
      const workers = startWorkers(d.app, { concurrency, roles: { sweeper: false }, batchSize: envInt('BENCH_BATCH', 512) });
      stop = () => workers.stop();
    } else {
      progress.now = `${name}: starting workers`;
      const workers = await startWorkerProcesses(d.env, processes, concurrency);
      pids = workers.pids;
      workerStatements = workers.statements;
      stop = async () => {
        const exits = await workers.stop();
        if (exits.some((c) => c !== 0)) console.error(`  ${name}: worker exit codes ${exits.join(', ')} (expected 0 after SIGTERM)`);
      };
    }
    let run: Awaited<ReturnType<typeof drive>>;
    let cpu: CpuUsed;
    const scaleOut = backend !== 'sqlite';
    let statementsInBench = 0;
    let redisCommands: number | undefined;
    try {
      const meter = await startCpu(d, pids);
      const statementsBefore = postgresStatementCount();
      const redisCounter = backend === 'postgres+redis' ? await countRedisCommands(d.env.BUILDFLOW_REDIS_PREFIX!) : undefined;
      run = rate > 0 ? await driveAtRate(name, d) : await drive(name, d);
      cpu = await meter.stop();
      statementsInBench = postgresStatementCount() - statementsBefore;
      if (redisCounter) redisCommands = await redisCounter.stop();
    } finally {
      progress.now = `${name}: stopping workers`;
      await stop();
    }
    const fromWorkers = workerStatements();
    const result: CellResult = {
      ...(await measure(name, d, run)),
      processes,
      cpu,
      ...(scaleOut && fromWorkers !== undefined ? { statements: statementsInBench + fromWorkers } : {}),
      ...(redisCommands !== undefined ? { redisCommands } : {}),
    };
    // Read once the workers' backends have exited, so their counters are flushed.
    if (d.database) {
      result.pg = await postgresStats(d.database);
      result.tuples = await postgresTuples(d.env.BUILDFLOW_DATABASE_URL!);
    }
    return result;
  } finally {
    await d.dispose();
  }
}

function printTable(results: CellResult[]): void {
  const base = results[0]!;
  console.log(`\n${'cell'.padEnd(34)}${'orders/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'cancelled'.padStart(11)}  ${`vs ${base.processes === 0 && base.name.startsWith('embedded') ? 'embedded' : 'row 1'}`.padEnd(14)}notes`);
  for (const r of results) {
    const notes = [
      r.finished ? '' : `NOT FINISHED: ${r.confirmed}/${total} confirmed in ${cellTimeoutMs / 1000} s`,
      r.pg ? `pg: ${r.pg.deadlocks} deadlocks, ${r.pg.rollbacks} rollbacks, ${r.finished ? `${(r.pg.commits / total).toFixed(1)} commits/order` : `${r.pg.commits} commits`}` : '',
    ].filter(Boolean);
    console.log(
      `${r.name.padEnd(34)}${r.ordersPerS.toFixed(0).padStart(9)}${String(r.p50).padStart(9)}${String(r.p99).padStart(9)}${String(r.max).padStart(9)}${String(r.cancelled).padStart(11)}  ${`${(r.ordersPerS / base.ordersPerS).toFixed(2)}x`.padEnd(14)}${notes.join('; ')}`,
    );
  }
  console.log('\nwhere the time goes: p50/p99 ms per step of a confirmed order, from the status before it to the status after it (reserve counts from placement)');
  for (const r of results) {
    const steps = r.steps.map((s) => `${s.step} ${s.p50}/${s.p99}`);
    console.log(`  ${r.name.padEnd(32)}${steps.join('   ')}`);
  }
  console.log(`\nCPU seconds during the run (wall time in brackets; the machine has ${availableParallelism()} cores, shared)`);
  for (const r of results) {
    if (!r.cpu) continue;
    const { bench, workers, postgres, redis } = r.cpu;
    const parts = [`bench process ${bench.toFixed(1)}`, ...(r.processes > 0 ? [`worker processes ${workers.toFixed(1)}`] : []), ...(r.pg ? [`postgres backends ${postgres.toFixed(1)}`] : []), ...(redis !== undefined ? [`redis ${redis.toFixed(1)}`] : [])];
    console.log(`  ${r.name.padEnd(32)}${parts.join(', ')}  [${(r.elapsedMs / 1000).toFixed(1)} s]`);
  }
  console.log('\nper order (orders confirmed or cancelled): CPU ms by process kind; Postgres statements (bench process + workers); Redis commands (naming the cell\'s keys, from MONITOR); commits');
  for (const r of results) {
    if (!r.cpu) continue;
    const n = r.confirmed + r.cancelled;
    const ms = (s: number): string => ((s * 1000) / n).toFixed(2);
    const { bench, workers, postgres, redis } = r.cpu;
    const parts = [
      `bench ${ms(bench)}`,
      ...(r.processes > 0 ? [`workers ${ms(workers)}`] : []),
      ...(r.pg ? [`postgres ${ms(postgres)}`] : []),
      ...(redis !== undefined ? [`redis ${ms(redis)}`] : []),
      `total ${ms(bench + (r.processes > 0 ? workers : 0) + (r.pg ? postgres : 0) + (redis ?? 0))} ms`,
      ...(r.statements !== undefined ? [`${(r.statements / n).toFixed(2)} pg statements`] : []),
      ...(r.redisCommands !== undefined ? [`${(r.redisCommands / n).toFixed(1)} redis commands`] : []),
      ...(r.tuples ? [`${(r.tuples.written / n).toFixed(1)} pg tuples written (${(r.tuples.hotUpdates / n).toFixed(1)} HOT updates; the simulated provider's books ${(r.tuples.provider / n).toFixed(1)} more)`] : []),
      ...(r.pg ? [`${(r.pg.commits / n).toFixed(2)} commits`, `${r.pg.deadlocks} deadlocks`] : []),
    ];
    console.log(`  ${r.name.padEnd(32)}${parts.join(', ')}`);
  }
}

await runBench('pipeline benchmark', 900, async () => {
  const backends = backendsFromEnv(['sqlite', 'postgres', 'postgres+redis']);
  console.log(
    `pipeline benchmark: ${total} orders per cell over ${benchProducts} products, ${rate > 0 ? `open loop at ${rate} orders/s` : `at most ${inFlight} in flight`}, worker concurrency ${concurrency}, node ${process.version}` +
      (backends.some((b) => b !== 'sqlite') ? `; Postgres cells: ${processCounts.map((n) => (n === 0 ? 'in-process' : `${n} process(es)`)).join(', ')}` : ''),
  );
  const tuning = Object.entries(tuningEnv());
  if (tuning.length > 0) console.log(`tuning from the environment: ${tuning.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const results: CellResult[] = [];
  for (const backend of backends) {
    for (const n of backend === 'sqlite' ? [0] : processCounts) {
      const r = await cell(backend, n);
      results.push(r);
      console.log(`  ${r.name}: ${r.ordersPerS.toFixed(0)} orders/s${r.finished ? '' : ` (not finished: ${r.confirmed}/${total} confirmed)`}`);
    }
  }
  printTable(results);
  if (backends.includes('sqlite')) console.log('floor: embedded >= 2000 orders/s');
  if (backends.includes('postgres+redis')) console.log('floor (issue 20): pg+redis with one worker process >= 2 x the 628aca7 build (paired runs), <= 2 Redis commands and <= 24 pg tuples written per order; goal: >= 0.5 x embedded');
  if (results.some((r) => !r.finished)) {
    console.error(`some cells did not finish within BENCH_CELL_TIMEOUT_S=${cellTimeoutMs / 1000}: their figures cover only the orders confirmed in time`);
    process.exitCode = 1;
  }
});
