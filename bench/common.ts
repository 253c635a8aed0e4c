import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { upsertProduct } from '../src/core/catalog/products.js';
import { loadConfig, type ConfigOverrides } from '../src/core/config.js';
import { openBuildflow, type Buildflow, type OpenOptions } from '../src/core/buildflow.js';

/** The deployments a benchmark can measure: the embedded default and the scale-out pair. */
export type Backend = 'sqlite' | 'postgres' | 'postgres+redis';

export interface BenchDeployment {
  backend: Backend;
  app: Buildflow;
  /** The Postgres database of a postgres+redis deployment (for its server-side statistics). */
  database?: string;
  /** BUILDFLOW_* settings that point another process (a `buildflow worker`) at the same deployment. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

// Only the machine's own servers: a benchmark writes and drops databases and deletes Redis keys.
export const BENCH_POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function assertLoopback(url: string, name: string): void {
  if (!LOOPBACK.has(new URL(url).hostname)) throw new Error(`${name}=${url}: benchmarks only run against loopback servers`);
}

/** BENCH_BACKEND=sqlite|postgres+redis|all (default all): the backends to measure, in order. */
export function backendsFromEnv(all: readonly Backend[] = ['sqlite', 'postgres+redis']): Backend[] {
  const raw = process.env.BENCH_BACKEND ?? 'all';
  if (raw === 'all') return [...all];
  return raw.split(',').map((b) => {
    const name = b.trim();
    if (name !== 'sqlite' && name !== 'postgres' && name !== 'postgres+redis') throw new Error(`BENCH_BACKEND: unknown backend "${name}" (sqlite, postgres, postgres+redis or all)`);
    return name;
  });
}

// The settings a bench chooses itself; every other BUILDFLOW_* variable in the environment (a
// tuning knob such as BUILDFLOW_RELAY_POLL_MS or BUILDFLOW_DATABASE_POOL_MAX) applies to every cell.
const CHOSEN_BY_BENCH = new Set(['BUILDFLOW_DATA_DIR', 'BUILDFLOW_DATABASE_URL', 'BUILDFLOW_REDIS_URL', 'BUILDFLOW_REDIS_PREFIX', 'BUILDFLOW_PAYMENT_LATENCY_MS', 'BUILDFLOW_LOG_LEVEL']);

/** BUILDFLOW_* tuning taken from the environment (see CHOSEN_BY_BENCH). */
export function tuningEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('BUILDFLOW_') && !CHOSEN_BY_BENCH.has(k) && v !== undefined && v !== '') out[k] = v;
  return out;
}

// ---- cleanup that also runs when a bench fails, times out or is interrupted ----

const cleanups: (() => Promise<void>)[] = [];

/** Registers `fn` to run if the bench ends before the caller undoes it; returns the unregister. */
export function onCleanup(fn: () => Promise<void>): () => void {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

async function runCleanups(): Promise<void> {
  // Newest first: worker processes stop before the database they use is dropped.
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await withTimeout(fn(), 30_000, 'cleanup step');
    } catch (err) {
      console.error(`cleanup failed: ${(err as Error).message}`);
    }
  }
}

/** A bench ended from outside: its time bound passed or it got a signal. */
class BenchAborted extends Error {}

/** What the bench is doing now; named in the timeout error. */
export const progress = { now: 'starting' };

/**
 * Runs a bench under a hard time bound (BENCH_TIMEOUT_S, default `defaultTimeoutS`). On an error,
 * the timeout or SIGINT/SIGTERM it runs every registered cleanup (worker processes, databases,
 * Redis keys, temp dirs) and exits non-zero.
 */
export async function runBench(name: string, defaultTimeoutS: number, main: () => Promise<void>): Promise<void> {
  const timeoutS = envInt('BENCH_TIMEOUT_S', defaultTimeoutS);
  let timer: NodeJS.Timeout | undefined;
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const abort = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchAborted(`${name} aborted: still running after ${timeoutS} s (BENCH_TIMEOUT_S) while ${progress.now}; cleaning up`)), timeoutS * 1000);
    onSignal = (signal) => reject(new BenchAborted(`${name} interrupted by ${signal} while ${progress.now}; cleaning up`));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  let failed = false;
  try {
    await Promise.race([main(), abort]);
  } catch (err) {
    failed = true;
    console.error(err instanceof BenchAborted ? err.message : err);
  } finally {
    clearTimeout(timer);
    if (onSignal) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    await runCleanups();
  }
  // A bench that failed may still hold sockets and timers; end the process rather than hang.
  if (failed) process.exit(1);
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- deployments ----

/** BENCH_PRODUCTS: how many products the orders spread over (default 8; see orderBody). */
export const benchProducts = envInt('BENCH_PRODUCTS', 8);
if (benchProducts < 1) throw new Error('BENCH_PRODUCTS must be at least 1');

async function seedProducts(app: Buildflow): Promise<void> {
  // A few at a time: Postgres commits concurrent transactions together; SQLite serializes them anyway.
  for (let from = 0; from < benchProducts; from += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, benchProducts - from) }, (_, k) =>
        upsertProduct(app.units, { sku: `BENCH-${from + k}`, name: `Bench product ${from + k}`, category: 'bench', unitPriceCents: 100 + ((from + k) % 100), onHand: 100_000_000 }),
      ),
    );
  }
}

/** A throwaway embedded deployment with a few well-stocked products. */
export async function benchApp(overrides: ConfigOverrides = {}, options: OpenOptions = {}): Promise<{ app: Buildflow; dispose(): Promise<void> }> {
  const d = await benchDeployment('sqlite', overrides, options);
  return { app: d.app, dispose: d.dispose };
}

/**
 * A throwaway deployment of `backend` with a few well-stocked products. postgres+redis gets a
 * fresh database on BENCH_POSTGRES_URL's server and a fresh Redis key prefix; dispose drops the
 * database and deletes every key under the prefix (also on failure, through runBench).
 */
export async function benchDeployment(backend: Backend, overrides: ConfigOverrides = {}, options: OpenOptions = {}): Promise<BenchDeployment> {
  const dir = mkdtempSync(join(tmpdir(), 'buildflow-bench-'));
  const env: Record<string, string> = { ...tuningEnv(), BUILDFLOW_DATA_DIR: dir };
  const undo: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  const dispose = async (): Promise<void> => {
    unregister();
    const errors: unknown[] = [];
    for (const fn of undo.reverse().splice(0)) await fn().catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw new Error(`dispose of the ${backend} deployment: ${errors.map((e) => (e as Error).message).join('; ')}`);
  };
  const unregister = onCleanup(dispose);
  try {
    if (backend !== 'sqlite') {
      assertLoopback(BENCH_POSTGRES_URL, 'BENCH_POSTGRES_URL');
      const suffix = randomBytes(6).toString('hex');
      const database = `bf_bench_${suffix}`;
      await adminQuery(`create database "${database}"`);
      undo.push(async () => void (await adminQuery(`drop database if exists "${database}" with (force)`)));
      const url = new URL(BENCH_POSTGRES_URL);
      url.pathname = `/${database}`;
      Object.assign(env, { BUILDFLOW_DATABASE_URL: url.toString() });
      if (backend === 'postgres+redis') {
        assertLoopback(BENCH_REDIS_URL, 'BENCH_REDIS_URL');
        const prefix = `bfbench-${suffix}`;
        undo.push(() => deleteRedisKeys(prefix));
        Object.assign(env, { BUILDFLOW_REDIS_URL: BENCH_REDIS_URL, BUILDFLOW_REDIS_PREFIX: prefix });
      }
    }
    const config = loadConfig({ BUILDFLOW_PAYMENT_LATENCY_MS: 0, BUILDFLOW_LOG_LEVEL: 'silent', ...env, ...overrides }, {});
    const app = await openBuildflow(config, { migrate: true, ...options });
    undo.push(() => app.close());
    await seedProducts(app);
    return { backend, app, env, dispose, ...(env.BUILDFLOW_DATABASE_URL ? { database: new URL(env.BUILDFLOW_DATABASE_URL).pathname.slice(1) } : {}) };
  } catch (err) {
    await dispose().catch(() => {});
    throw err;
  }
}

async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Server-side counters of a bench database (pg_stat_database): committed and rolled-back transactions, deadlocks. */
export async function postgresStats(database: string): Promise<{ commits: number; rollbacks: number; deadlocks: number }> {
  const [row] = await adminQuery<{ c: string; r: string; d: string }>(
    'select xact_commit as c, xact_rollback as r, deadlocks as d from pg_stat_database where datname = $1',
    [database],
  );
  return { commits: Number(row?.c ?? NaN), rollbacks: Number(row?.r ?? NaN), deadlocks: Number(row?.d ?? NaN) };
}

/**
 * Tuples the cell's database has written so far (inserted, updated and deleted rows over its own
 * tables, from pg_stat_user_tables), how many of the updates were HOT, and those of the simulated
 * payment provider's tables (apart). Read once the writers'
 * backends have exited, so their counters are flushed.
 */
export async function postgresTuples(url: string): Promise<{ written: number; hotUpdates: number; provider: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The simulated payment provider keeps its books in the same database; a real provider's are
    // elsewhere, so its tables are counted apart.
    const { rows } = await client.query<{ w: string; h: string; p: string }>(
      `select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del) filter (where relname not like 'simulated\\_%'), 0) as w,
              coalesce(sum(n_tup_hot_upd) filter (where relname not like 'simulated\\_%'), 0) as h,
              coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del) filter (where relname like 'simulated\\_%'), 0) as p
         from pg_stat_user_tables`,
    );
    return { written: Number(rows[0]?.w ?? NaN), hotUpdates: Number(rows[0]?.h ?? NaN), provider: Number(rows[0]?.p ?? NaN) };
  } finally {
    await client.end();
  }
}

/**
 * Counts the Redis commands that name a key under `prefix` (the cell's own deployment), from
 * MONITOR, until `stop`: INFO commandstats counts every client of a shared server. A script's
 * inner commands are reported by MONITOR besides the EVALSHA that ran them, so the count is an
 * upper bound; MONITOR itself costs the server some CPU while it runs.
 */
export async function countRedisCommands(prefix: string): Promise<{ stop(): Promise<number> }> {
  const client = new Redis(BENCH_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const monitor = await client.monitor();
  let n = 0;
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args.some((a) => a.includes(prefix))) n++;
  });
  return {
    async stop() {
      monitor.disconnect();
      client.disconnect();
      return n;
    },
  };
}

/**
 * Commands the Redis server has run so far (INFO commandstats). The server is shared: commands of
 * other clients during the run are counted too, so the figure is an upper bound.
 */
export async function redisCommandCount(): Promise<number> {
  const client = new Redis(BENCH_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('commandstats');
    let total = 0;
    for (const m of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(m[1]);
    return total;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix:`, and checks none is left. */
async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(BENCH_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    for (let pass = 0; pass < 3; pass++) {
      let cursor = '0';
      let found = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        found += keys.length;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      if (found === 0) return;
    }
    throw new Error(`Redis keys under ${prefix}: keep reappearing after deletion`);
  } finally {
    redis.disconnect();
  }
}

// ---- CPU accounting (Linux /proc; where a figure cannot be read it is left out) ----

/** CPU seconds (user + system) a process has used so far, or undefined if it cannot be read. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface CpuSnapshot {
  bench: number;
  workers: number;
  redis: number | undefined;
}

/** CPU used so far by this process, the given worker processes and the local Redis server. */
async function cpuSnapshot(d: BenchDeployment, workerPids: readonly number[]): Promise<CpuSnapshot> {
  const u = process.cpuUsage();
  let redis: number | undefined;
  if (d.env.BUILDFLOW_REDIS_URL) {
    const client = new Redis(BENCH_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      const pid = /process_id:(\d+)/.exec(await client.info('server'))?.[1];
      redis = pid ? cpuSecondsOf(Number(pid)) : undefined;
    } finally {
      client.disconnect();
    }
  }
  const workers = workerPids.map(cpuSecondsOf).reduce<number>((a, b) => a + (b ?? 0), 0);
  return { bench: (u.user + u.system) / 1e6, workers, redis };
}

/** CPU seconds a run used, by process kind. */
export interface CpuUsed {
  bench: number;
  workers: number;
  postgres: number;
  redis: number | undefined;
}

/**
 * Starts measuring the CPU of this process, the given worker processes, the bench database's
 * Postgres backends and the local Redis server; `stop` says what the run used. The backends are
 * sampled every 200 ms through the run: a backend the pool closes during the run (pg's 10 s idle
 * timeout) counts up to its last sample, one opened during the run from zero. Read only at the
 * start and the end, a run that lost a connection looked cheaper than one that kept it.
 */
export async function startCpu(d: BenchDeployment, workerPids: readonly number[]): Promise<{ stop(): Promise<CpuUsed> }> {
  const before = await cpuSnapshot(d, workerPids);
  const postgres = d.database ? samplePostgresCpu(d.database) : undefined;
  return {
    async stop() {
      const after = await cpuSnapshot(d, workerPids);
      return {
        bench: after.bench - before.bench,
        workers: after.workers - before.workers,
        postgres: (await postgres?.stop()) ?? 0,
        redis: before.redis === undefined || after.redis === undefined ? undefined : after.redis - before.redis,
      };
    },
  };
}

function samplePostgresCpu(database: string, everyMs = 200): { stop(): Promise<number> } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let initial = true;
  const sample = async () => {
    const rows = await adminQuery<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [database]);
    for (const { pid } of rows) {
      const s = cpuSecondsOf(pid);
      if (s === undefined) continue;
      if (!first.has(pid)) first.set(pid, initial ? s : 0);
      last.set(pid, s);
    }
    initial = false;
  };
  let stopped = false;
  const loop = (async () => {
    await sample();
    while (!stopped) {
      await new Promise((r) => setTimeout(r, everyMs));
      await sample();
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      let total = 0;
      for (const [pid, s] of last) total += s - first.get(pid)!;
      return total;
    },
  };
}

// ---- small helpers ----

/**
 * An order body spread over the bench products. With the default 8 products every order shares
 * rows with many others (hot rows, as a popular catalog has); with BENCH_PRODUCTS=N > 8 order i
 * takes products 2i and 2i+1 (mod N), so no two of any N/2 consecutive orders share a row: that
 * isolates the transport from row-lock contention.
 */
export function orderBody(i: number): { items: { sku: string; quantity: number }[] } {
  const [a, b] = benchProducts === 8 ? [i % 8, (i + 3) % 8] : [(2 * i) % benchProducts, (2 * i + 1) % benchProducts];
  return { items: [{ sku: `BENCH-${a}`, quantity: 1 }, { sku: `BENCH-${b}`, quantity: 2 }] };
}

/** Percentile of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number.parseInt(v, 10);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${v}: expected a non-negative integer`);
  return n;
}

/** Whole-number list from an env var, e.g. BENCH_PROCESSES=1,2. */
export function envInts(name: string, fallback: number[]): number[] {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  return v.split(',').map((s) => {
    const n = Number.parseInt(s.trim(), 10);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${v}: expected whole numbers separated by commas`);
    return n;
  });
}
