import { randomBytes, randomInt } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { bearerClient } from './api.js';
import type { ChaosEvent } from './chaos-events.js';
import { startChaos, type ChaosSpec } from './chaos.js';
import { runChecks, type CheckInput } from './checks.js';
import { Deployment, type Backend } from './deployment.js';
import type { GeneratorConfig, GeneratorMessage, LoadModel } from './generator-config.js';
import { HistoryWriter } from './history.js';
import { metricsOf, summarize } from './metrics.js';
import type { RequestRecord } from './records.js';
import type { LoadtestReport } from './report-schema.js';
import { setUpTarget, type SetUp } from './setup.js';
import { settle } from './snapshot.js';
import { evaluateThresholds, type Threshold } from './thresholds.js';

export interface LoadtestOptions {
  url?: string | undefined;
  adminKey?: string | undefined;
  backend: Backend;
  servers: number;
  workers?: number | undefined;
  keep: boolean;
  connections: number;
  rate?: number | undefined;
  durationMs?: number | undefined;
  orders?: number | undefined;
  warmupMs: number;
  seed?: number | undefined;
  customers: number;
  hotStock: number;
  hotUnits: number;
  retryShare: number;
  cancelShare: number;
  readShare: number;
  chaos: ChaosSpec[];
  settleTimeoutMs: number;
  history?: string | undefined;
  thresholds: Threshold[];
  /** Called about four times a second with a one-line progress summary (only set on a terminal). */
  onProgress?: ((line: string) => void) | undefined;
  /** Logs for people (stderr). */
  note: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

// Doctor checks about how Redis is configured rather than what the run did: reported, not counted.
const CONFIGURATION_CHECKS = new Set(['redis-persistence', 'redis-eviction']);

/** Runs a whole load test: target, set-up, load (with chaos), settle, checks, thresholds. Never exits the process. */
export async function runLoadtest(o: LoadtestOptions): Promise<LoadtestReport> {
  if (o.url && o.chaos.length > 0) throw new CliError('USAGE', '--chaos needs a deployment loadtest starts itself (leave out --url)');
  if (o.url === undefined && o.backend === 'sqlite' && o.servers > 1) throw new CliError('USAGE', '--servers above 1 needs --backend postgres or postgres+redis');
  if (o.chaos.some((c) => c.kind === 'redis-flush') && o.backend !== 'postgres+redis') throw new CliError('USAGE', '--chaos redis-flush needs --backend postgres+redis');
  const seed = o.seed ?? randomInt(2 ** 31);
  const runId = randomBytes(4).toString('hex');

  let deployment: Deployment | undefined;
  let urls: string[];
  let adminKey: string;
  if (o.url) {
    adminKey = o.adminKey ?? '';
    if (!adminKey) throw new CliError('USAGE', 'a --url target needs the admin key for set-up and checks (--admin-key or BUILDFLOW_ADMIN_KEY)');
    urls = [o.url.replace(/\/+$/, '')];
  } else {
    const workers = o.workers ?? (o.backend === 'sqlite' ? (o.chaos.some((c) => c.kind === 'worker-kill') ? 1 : 0) : 1);
    if (workers === 0 && o.chaos.some((c) => c.kind === 'worker-kill')) throw new CliError('USAGE', '--chaos worker-kill needs --workers 1 or more');
    const databaseUrl = o.backend === 'sqlite' ? undefined : o.env.BUILDFLOW_DATABASE_URL;
    const redisUrl = o.backend === 'postgres+redis' ? o.env.BUILDFLOW_REDIS_URL : undefined;
    // The servers the deployment needs, checked before any process starts: one line naming the one
    // that does not answer, exit 5 (serve would say the same, once per process).
    const [{ loadConfig }, { preflight }] = await Promise.all([import('../../core/config.js'), import('../../core/preflight.js')]);
    await preflight(loadConfig({ BUILDFLOW_DATABASE_URL: databaseUrl, BUILDFLOW_REDIS_URL: redisUrl }, {}), { database: true, redis: true });
    o.note(`starting a ${o.backend} deployment: ${o.servers} serve, ${workers === 0 ? 'workers inside serve' : `${workers} worker`}…`);
    deployment = await Deployment.start({
      backend: o.backend,
      servers: o.servers,
      workers,
      keep: o.keep,
      databaseUrl: o.env.BUILDFLOW_DATABASE_URL,
      redisUrl: o.backend === 'postgres+redis' ? o.env.BUILDFLOW_REDIS_URL : undefined,
      env: o.env,
    });
    if (o.keep) o.note(`keeping the deployment's data in ${deployment.dataDir}`);
    urls = deployment.urls;
    adminKey = deployment.adminKey;
  }
  try {
    const admin = bearerClient(urls[0]!, adminKey);
    const stockSetAt = Date.now();
    const setup = await setUpTarget(admin, urls[0]!, { seed, runId, customers: o.customers, hotStock: o.hotStock, hotUnits: o.hotUnits });
    const model: LoadModel = o.rate !== undefined ? { kind: 'open', rate: o.rate, connections: o.connections } : { kind: 'closed', connections: o.connections };
    const history = o.history
      ? new HistoryWriter(o.history, {
          type: 'run',
          version: 1,
          runId,
          seed,
          model: model.kind,
          urls,
          startedAt: new Date().toISOString(),
          stockSetAt,
          initialStock: setup.initialStock,
          options: { connections: o.connections, rate: o.rate ?? null, durationMs: o.durationMs ?? null, orders: o.orders ?? null, warmupMs: o.warmupMs, customers: o.customers, hotStock: o.hotStock, retryShare: o.retryShare, cancelShare: o.cancelShare, readShare: o.readShare },
        })
      : undefined;

    const cpuBefore = process.cpuUsage();
    const load = await runGenerator(
      {
        urls,
        tokens: setup.tokens,
        plan: { seed, runId, skus: setup.skus, customers: o.customers, readShare: o.readShare, retryShare: o.retryShare, cancelShare: o.cancelShare },
        model,
        durationMs: o.durationMs === undefined ? undefined : o.durationMs + o.warmupMs,
        orders: o.orders,
      },
      deployment && o.chaos.length > 0 ? (runMs) => startChaos(deployment!, o.chaos, runMs) : undefined,
      o.durationMs === undefined ? 10_000 : o.durationMs + o.warmupMs,
      history,
      o.onProgress,
    );
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = Math.max(1, load.endedAt - load.startedAt);
    const window = { from: load.startedAt + o.warmupMs, to: load.endedAt };
    await history?.end({ type: 'end', chaos: load.chaos, window, dropped: load.dropped, generatorBusy: load.busy });

    o.note(`load done (${load.records.length} requests); settling…`);
    const accepted = new Set(load.records.filter((r) => (r.op === 'order' || r.op === 'retry') && r.status === 201 && r.orderId).map((r) => r.orderId!));
    const settled = await settle(admin, accepted, o.settleTimeoutMs);
    const doctor = deployment ? await doctorOf(deployment) : { skipped: 'needs the deployment\u2019s database: loadtest did not start this one (--url)' };
    return buildReport({
      records: load.records,
      settled,
      setup,
      stockSetAt,
      chaos: load.chaos,
      doctor,
      thresholds: o.thresholds,
      window,
      dropped: load.dropped,
      busy: load.busy,
      processCpu: (cpu.user + cpu.system) / 1000 / wallMs,
      run: {
        runId,
        seed,
        model: model.kind,
        connections: o.connections,
        rate: o.rate ?? null,
        durationMs: o.durationMs ?? null,
        orders: o.orders ?? null,
        warmupMs: o.warmupMs,
        startedAt: new Date(load.startedAt).toISOString(),
        endedAt: new Date(load.endedAt).toISOString(),
        measuredMs: window.to - window.from,
        target: {
          kind: deployment ? o.backend : 'url',
          urls,
          servers: urls.length,
          workers: deployment ? deployment.workers.length : 0,
          ...(deployment && o.backend === 'postgres+redis' ? { redisPrefix: deployment.redisPrefix } : {}),
        },
        chaos: load.chaos,
        settle: { settled: settled.settled, waitedMs: settled.waitedMs, timeoutMs: o.settleTimeoutMs },
      },
      settleTimeoutMs: o.settleTimeoutMs,
    });
  } finally {
    await deployment?.stop();
  }
}

async function doctorOf(deployment: Deployment): Promise<CheckInput['doctor']> {
  const { runDoctor } = await import('../../core/doctor/run-doctor.js');
  const report = await runDoctor(await deployment.config());
  const failed = report.checks.filter((c) => c.status === 'fail');
  return {
    failures: failed.filter((c) => !CONFIGURATION_CHECKS.has(c.name)).map((c) => ({ name: c.name, detail: c.detail })),
    notes: failed.filter((c) => CONFIGURATION_CHECKS.has(c.name)).map((c) => `${c.name}: ${c.detail}`),
  };
}

interface LoadResult {
  records: RequestRecord[];
  startedAt: number;
  endedAt: number;
  dropped: number;
  busy: number;
  chaos: ChaosEvent[];
}

/** Runs the generator thread to the end, gathering its records (and writing them to the history as they come). */
function runGenerator(
  config: GeneratorConfig,
  chaos: ((runMs: number) => { stop(): Promise<ChaosEvent[]> }) | undefined,
  runMs: number,
  history: HistoryWriter | undefined,
  onProgress: ((line: string) => void) | undefined,
): Promise<LoadResult> {
  const worker = new Worker(new URL('./generator-thread.js', import.meta.url), { workerData: config });
  const records: RequestRecord[] = [];
  // The chaos clock starts with the load, not with the thread (which takes a while to boot on a busy machine).
  let chaosRun: { stop(): Promise<ChaosEvent[]> } | undefined;
  const began = Date.now();
  const progress = onProgress
    ? setInterval(() => {
        const s = (Date.now() - began) / 1000;
        const errors = records.filter((r) => r.status === 0 || r.status >= 500).length;
        onProgress(`${s.toFixed(1)} s · ${records.length} requests · ${(records.length / Math.max(s, 0.001)).toFixed(0)} req/s · ${errors} errors`);
      }, 250)
    : undefined;
  return new Promise<LoadResult>((resolve, reject) => {
    let ended = false;
    // The chaos is stopped (and the action in progress awaited) before the outcome is known.
    const finish = (outcome: (events: ChaosEvent[]) => void) => {
      if (ended) return;
      ended = true;
      if (progress) clearInterval(progress);
      // Its message port would keep the thread (and this process) alive.
      void worker.terminate();
      (chaosRun?.stop() ?? Promise.resolve([])).then(outcome, reject);
    };
    const failed = (message: string) => finish(() => reject(new CliError('INTERNAL', `the load generator failed: ${message}`)));
    worker.on('message', (m: GeneratorMessage) => {
      if (m.type === 'started') {
        chaosRun = chaos?.(runMs);
      } else if (m.type === 'records') {
        for (const r of m.records) records.push(r);
        history?.requests(m.records);
      } else if (m.type === 'done') {
        finish((events) => resolve({ records, startedAt: m.startedAt, endedAt: m.endedAt, dropped: m.dropped, busy: m.busy, chaos: events }));
      } else {
        failed(m.message);
      }
    });
    worker.on('error', (err) => failed(err.message));
    worker.on('exit', (code) => {
      if (code !== 0) failed(`its thread exited ${code}`);
    });
  });
}

/** Everything {@link buildReport} turns into the report. */
export interface ReportInput {
  records: RequestRecord[];
  settled: Awaited<ReturnType<typeof settle>>;
  setup: Pick<SetUp, 'initialStock'>;
  stockSetAt: number;
  chaos: ChaosEvent[];
  doctor: CheckInput['doctor'];
  thresholds: Threshold[];
  window: { from: number; to: number };
  dropped: number;
  busy: number;
  processCpu: number;
  run: LoadtestReport['run'];
  settleTimeoutMs: number;
}

/** Summary, checks and thresholds of a finished run (also used by `loadtest check` on a history file). */
export function buildReport(i: ReportInput): LoadtestReport {
  const summary = summarize(i.records, i.settled.snapshot, i.window);
  const metrics = metricsOf(summary, { dropped: i.dropped, generatorBusy: i.busy });
  const checks = runChecks({
    records: i.records,
    snapshot: i.settled.snapshot,
    initialStock: i.setup.initialStock,
    stockSetAt: i.stockSetAt,
    chaos: i.chaos,
    settled: i.settled.settled,
    settleTimeoutMs: i.settleTimeoutMs,
    doctor: i.doctor,
  });
  const thresholds = evaluateThresholds(i.thresholds, metrics);
  const checksFailed = checks.some((c) => c.status === 'fail');
  const thresholdsMissed = thresholds.some((t) => !t.passed);
  const exitCode = checksFailed ? ExitCode.CHECKS_FAILED : thresholdsMissed ? ExitCode.THRESHOLDS_MISSED : ExitCode.OK;
  return {
    schemaVersion: 1,
    passed: exitCode === ExitCode.OK,
    exitCode,
    run: i.run,
    metrics,
    intake: { ...nulls(summary.intake), rps: summary.intake.rps },
    reads: { ...nulls(summary.reads), rps: summary.reads.rps },
    requests: summary.requests,
    errors: summary.errors,
    openLoop: i.run.model === 'open' ? { late: summary.late, dropped: i.dropped } : null,
    e2e: { ...nulls(summary.e2e), histogram: summary.e2e.histogram },
    outcomes: summary.outcomes,
    generator: { busy: i.busy, processCpu: i.processCpu },
    timeline: summary.timeline,
    thresholds: thresholds.map((t) => ({ expression: t.expression, metric: t.metric, op: t.op, limit: t.limit, actual: t.actual, passed: t.passed })),
    checks,
  };
}

function nulls(l: { count: number; p50?: number | undefined; p90?: number | undefined; p95?: number | undefined; p99?: number | undefined; max?: number | undefined; mean?: number | undefined }) {
  return { count: l.count, p50: l.p50 ?? null, p90: l.p90 ?? null, p95: l.p95 ?? null, p99: l.p99 ?? null, max: l.max ?? null, mean: l.mean ?? null };
}
