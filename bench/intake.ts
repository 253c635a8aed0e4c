/**
 * Intake benchmark: durable order intake against an echo ceiling measured in the same run, on the
 * embedded default and on Postgres (scale-out storage).
 *
 *   npm run build && node dist/bench/intake.js
 *     BENCH_SECONDS=10 BENCH_CONNECTIONS=64 per run; BENCH_ROUNDS=3 (echo, then the orders runs, per
 *     round); BENCH_BACKEND=all (or sqlite / postgres+redis); BENCH_SKIP_BASELINE=1 skips the
 *     commit-per-request run; BENCH_TIMEOUT_S=600 hard bound
 *
 *     BENCH_RATE=N sends N requests/s in all (open loop) instead of as fast as answered: every
 *     build then sees the same batch sizes, and CPU per request, not the rate, is the figure to
 *     compare between builds (the closed loop's rate swings ±20 % from run to run with them)
 *
 * The echo route validates the same body schema on a Fastify instance built the same way and
 * answers without touching the database or the disk, so the ratio isolates what durable intake costs. An
 * order is answered only after its transaction is committed and durable (SQLite: committed on
 * the SQLite commit thread with synchronous=FULL; Postgres: the commit returned with
 * synchronous_commit on). Workers are off so the figure is intake alone; on postgres+redis the
 * server is the one `serve --no-worker` runs. The baseline run commits and fsyncs one SQLite
 * transaction per request on the event loop (synchronous=FULL), the obvious design group commit
 * replaces.
 *
 * Each round runs every backend twice, with metrics on (as `serve` runs: request histogram, order
 * counters, snapshot gauges, and a scraper reading /metrics every BENCH_SCRAPE_MS, default 1000)
 * and with metrics off (`buildServer(…, { metrics: false })`), alternating which goes first; the
 * median ratio on ÷ off is printed (goal ≥ 0.97). BENCH_METRICS=on skips the off runs.
 */
import autocannon from 'autocannon';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server/build-server.js';
import { OrderIntake } from '../src/core/orders/intake.js';
import { InProcessCommits } from '../src/core/db/commit-engine.js';
import { UnitRunner } from '../src/core/db/unit-of-work.js';
import { CreateOrderBody } from '../src/server/schemas/orders.js';
import { backendsFromEnv, benchApp, benchDeployment, envInt, startCpu, orderBody, percentile, progress, runBench, type Backend } from './common.js';

const seconds = envInt('BENCH_SECONDS', 10);
// Orders are placed as the admin (no customer): the same headers go to the echo route.
const ADMIN_KEY = 'bench-admin-key-0123456789';
const connections = envInt('BENCH_CONNECTIONS', 64);
const rate = envInt('BENCH_RATE', 0);
const body = JSON.stringify(orderBody(1));
const scrapeMs = envInt('BENCH_SCRAPE_MS', 1000);
const compareMetrics = process.env.BENCH_METRICS !== 'on';

interface Run {
  /** CPU seconds of this process (server and load generator thread) and of the database's Postgres backends. */
  cpu?: string;
  /** CPU time of this process (every thread: server, intake writer, load generator, GC) per answered request, in µs. */
  cpuPerRequestUs: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function drive(url: string): Promise<Run> {
  // The load generator runs in its own thread so it does not stall the server's event loop; it
  // still shares this machine's cores with the server, in the echo runs and the orders runs alike.
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };
  const before = process.cpuUsage();
  const r = await autocannon({ url, connections, workers: 1, duration: seconds, method: 'POST', headers, body, ...(rate > 0 ? { overallRate: rate } : {}) });
  // A server that cannot keep up with the rate makes the run a closed loop after all.
  if (rate > 0 && r.requests.average < rate * 0.95) console.error(`note: ${url} answered ${Math.round(r.requests.average)} requests/s, short of BENCH_RATE=${rate}`);
  const used = process.cpuUsage(before);
  return {
    rps: r.requests.average,
    cpuPerRequestUs: (used.user + used.system) / Math.max(1, r.requests.total),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/** Listens on loopback, drives `path` for BENCH_SECONDS, closes. */
async function driveServer(server: FastifyInstance, path: string): Promise<Run> {
  await server.listen({ host: '127.0.0.1', port: 0 });
  try {
    const addr = server.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    return await drive(`http://127.0.0.1:${addr.port}${path}`);
  } finally {
    await server.close();
  }
}

function line(name: string, r: Run, ceiling?: number): string {
  const ratio = ceiling ? `  ${((100 * r.rps) / ceiling).toFixed(1)}% of echo` : '';
  const bad = r.non2xx + r.errors > 0 ? `  (${r.non2xx} non-2xx, ${r.errors} errors)` : '';
  const cpu = `${r.cpuPerRequestUs.toFixed(0).padStart(4)} µs CPU/req`;
  return `${name.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${String(r.p50).padStart(4)} ms  p99 ${String(r.p99).padStart(4)} ms  ${cpu}${ratio}${bad}${r.cpu ? `  (${r.cpu})` : ''}`;
}

async function echoRun(): Promise<Run> {
  progress.now = 'echo run';
  const { app, dispose } = await benchApp();
  try {
    const server = await buildServer(app, { adminKey: ADMIN_KEY, logger: false });
    // The echo writes nothing, so it skips the WAL sync that write routes wait for: until
    // 2026-12-03 it fsynced the WAL for every batch of requests, which held the ceiling 15–25 % low.
    server.post('/bench/echo', { schema: { body: CreateOrderBody } }, async (req, reply) => reply.code(201).send(req.body));
    return await driveServer(server, '/bench/echo');
  } finally {
    await dispose();
  }
}

/** Reads /metrics every BENCH_SCRAPE_MS while the run lasts, as a Prometheus would; returns the stop function. */
function scrapeEvery(server: FastifyInstance): () => Promise<void> {
  let stopped = false;
  let scrapes = 0;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, scrapeMs));
      if (stopped) break;
      const res = await server.inject({ url: '/metrics', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      if (res.statusCode !== 200) throw new Error(`scrape answered ${res.statusCode}`);
      scrapes++;
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    if (scrapes === 0 && seconds * 1000 > scrapeMs) throw new Error('the scraper never ran');
  };
}

async function ordersRun(backend: Backend, metrics: boolean): Promise<Run> {
  progress.now = `orders run on ${backend}, metrics ${metrics ? 'on' : 'off'}`;
  const d = await benchDeployment(backend);
  try {
    const server = await buildServer(d.app, { adminKey: ADMIN_KEY, logger: false, ...(metrics ? {} : { metrics: false }) });
    const meter = await startCpu(d, []);
    const stopScraping = metrics ? scrapeEvery(server) : undefined;
    const run = await driveServer(server, '/v1/orders');
    await stopScraping?.();
    const cpu = await meter.stop();
    return { ...run, cpu: `CPU s: bench process ${cpu.bench.toFixed(1)}${d.database ? `, postgres backends ${cpu.postgres.toFixed(1)}` : ''}` };
  } finally {
    await d.dispose();
  }
}

// The same intake committing (and fsyncing) one SQLite transaction per order.
async function perRequestRun(): Promise<Run> {
  progress.now = 'commit-per-request baseline';
  const single = await benchApp();
  try {
    await sql`pragma synchronous = full`.execute(single.app.db);
    const perRequest = new OrderIntake(new InProcessCommits(new UnitRunner(single.app.db), 1), 100);
    single.app.placeOrder = (input) => perRequest.place(input);
    return await driveServer(await buildServer(single.app, { adminKey: ADMIN_KEY, logger: false }), '/v1/orders');
  } finally {
    await single.dispose();
  }
}

const rounds = envInt('BENCH_ROUNDS', 3);
if (rounds < 1) throw new Error('BENCH_ROUNDS must be at least 1');

const median = (xs: readonly number[]) => percentile([...xs].sort((a, b) => a - b), 50);

await runBench('intake benchmark', 600, async () => {
  const backends = backendsFromEnv();
  console.log(`intake benchmark: ${connections} connections${rate > 0 ? ` at ${rate} requests/s` : ''}, ${seconds}s per run, ${rounds} rounds, node ${process.version}`);
  // This host's speed drifts within minutes, so the echo ceiling is measured before the first
  // round and again after every round; each orders run is compared with the mean of the echo runs
  // on either side of it, and the figure is the median round.
  const ratios = new Map<Backend, number[]>(backends.map((b) => [b, []]));
  const metricsRatios = new Map<Backend, number[]>(backends.map((b) => [b, []]));
  const rates = new Map<Backend, number[]>(backends.map((b) => [b, []]));
  const cpu = new Map<Backend, number[]>(backends.map((b) => [b, []]));
  const echoCpu: number[] = [];
  let echo = await echoRun();
  console.log(line('[0] echo (schema, no database)', echo));
  echoCpu.push(echo.cpuPerRequestUs);
  for (let round = 1; round <= rounds; round++) {
    const runs: [Backend, Run][] = [];
    const offRuns = new Map<Backend, Run>();
    for (const backend of backends) {
      // Alternate which goes first, so a drift of the host's speed within a round favours neither.
      if (compareMetrics && round % 2 === 1) offRuns.set(backend, await ordersRun(backend, false));
      runs.push([backend, await ordersRun(backend, true)]);
      if (compareMetrics && round % 2 === 0) offRuns.set(backend, await ordersRun(backend, false));
    }
    const before = echo;
    echo = await echoRun();
    echoCpu.push(echo.cpuPerRequestUs);
    const ceiling = (before.rps + echo.rps) / 2;
    for (const [backend, r] of runs) {
      ratios.get(backend)!.push(r.rps / ceiling);
      rates.get(backend)!.push(r.rps);
      cpu.get(backend)!.push(r.cpuPerRequestUs);
      const name = backend === 'sqlite' ? 'orders (sqlite, group commit)' : 'orders (postgres, group commit)';
      console.log(line(`[${round}] ${name}`, r, ceiling));
      const off = offRuns.get(backend);
      if (off) {
        console.log(line(`[${round}]   same, metrics off`, off, ceiling));
        metricsRatios.get(backend)!.push(r.rps / off.rps);
      }
      for (const run of [r, off]) {
        if (run && run.non2xx + run.errors > 0) {
          console.error(`the ${backend} orders run had failed requests: its figures do not measure intake`);
          process.exitCode = 1;
        }
      }
    }
    console.log(line(`[${round}] echo (schema, no database)`, echo));
  }
  const baseline = process.env.BENCH_SKIP_BASELINE ? undefined : await perRequestRun();
  if (baseline) console.log(line('orders (sqlite, commit per request)', baseline, echo.rps));

  const spread = (xs: number[]) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
  if (rate > 0) console.log(`at ${rate} requests/s every run answers the same rate: the CPU per request below is the figure`);
  else console.log(`ratio orders/echo, median of ${rounds} rounds (range): ${[...ratios].map(([b, xs]) => `${b} ${spread(xs)}`).join(', ')} (goal >= 0.50)`);
  if (compareMetrics) {
    console.log(`intake metrics on / off, median of ${rounds} rounds (range), scraped every ${scrapeMs} ms: ${[...metricsRatios].map(([b, xs]) => `${b} ${spread(xs)}`).join(', ')} (goal >= 0.97)`);
  }
  // CPU per request drifts with the host's speed far less than the rate does: it says what an
  // order costs beside an echo request, whatever the latency of the closed loop.
  const echoUs = median(echoCpu);
  console.log(
    `CPU per request (this process, every thread), median: echo ${echoUs.toFixed(0)} µs; ` +
      [...cpu].map(([b, xs]) => `${b} order ${median(xs).toFixed(0)} µs (${(median(xs) / echoUs).toFixed(1)}x echo)`).join(', '),
  );
  const lite = rates.get('sqlite');
  const pgr = rates.get('postgres+redis');
  if (lite && baseline) console.log(`sqlite group commit vs per-request: ${(median(lite) / baseline.rps).toFixed(1)}x`);
  if (lite && pgr) console.log(`postgres vs sqlite intake: ${(median(pgr) / median(lite)).toFixed(2)}x`);
});
