import { randomBytes, randomInt } from 'node:crypto';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { retryingClient } from './target/api.js';
import { constantSchedule, stagedSchedule, type ArrivalSchedule, type Stage } from './generator/arrival-schedule.js';
import type { ChaosEvent } from './deployment/chaos-events.js';
import { startChaos, type ChaosSpec } from './deployment/chaos.js';
import { runChecks, type CheckInput } from './checks/checks.js';
import { reconcileRunMoney } from './checks/money-reconciles.js';
import { CustomerCache, cacheFileFor } from './target/customer-cache.js';
import { Deployment, type Backend } from './deployment/deployment.js';
import type { GeneratorConfig, GeneratorMessage, LoadModel } from './generator/generator-config.js';
import { startGeneratorThread } from './generator/start-generator-thread.js';
import { HistoryWriter } from './report/history.js';
import { LiveJudge, type LiveVerdict } from './metrics/live-judge.js';
import { Histogram } from './metrics/histogram.js';
import { LATE_AFTER_MS, isError, metricsOf, summarize } from './metrics/metrics.js';
import { INTAKE_OPS, latencyOf, type RequestRecord } from './generator/records.js';
import type { LoadtestReport } from './report/report-schema.js';
import { setUpTarget, type SetUp } from './target/setup.js';
import { settle } from './checks/snapshot.js';
import { evaluateThresholds, type Threshold } from './metrics/thresholds.js';
import { returnShareOf } from './generator/return-share.js';

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
  /** The k hottest products made scarce; undefined: one product of small share (see scarceRanks). */
  hotStock: number | undefined;
  hotUnits: number;
  retryShare: number;
  cancelShare: number;
  readShare: number;
  /** Confirmed orders the admin refunds in part. */
  refundShare: number;
  /** Orders the admin cancels once payment has started. */
  cancelPaidShare: number;
  /** After settling, this share of confirmed orders is shipped, partly returned and refunded (`return-share.ts`). */
  returnShare: number;
  chaos: ChaosSpec[];
  /** Open loop in stages, each ramping linearly to its rate. */
  stages?: Stage[] | undefined;
  /** Judge the thresholds as the run goes and stop the load once one broke 5 s in a row. */
  abortOnFail?: boolean | undefined;
  /** Ramp (the stages) until a threshold breaks 3 s in a row, and report the highest rate that held. */
  findKnee?: boolean | undefined;
  settleTimeoutMs: number;
  history?: string | undefined;
  thresholds: Threshold[];
  /** Called about four times a second with a one-line progress summary (only set on a terminal). */
  onProgress?: ((line: string) => void) | undefined;
  /** Logs for people (stderr). */
  note: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

// --abort-on-fail stops the load once a threshold broke this many seconds in a row; --find-knee
// sooner, since past the knee every second costs more load for nothing learnt.
const ABORT_STREAK_S = 5;
const KNEE_STREAK_S = 3;

// A ramp starts at 0: a floor on a rate would break in its first seconds, so the knee is judged on ceilings (latency, errors) only.
function isUpperLimit(t: Threshold): boolean {
  return t.op === '<' || t.op === '<=';
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
    const admin = retryingClient(urls[0]!, adminKey);
    const stockSetAt = Date.now();
    // Only a --url target outlives the run: its customers are worth keeping for the next one.
    const cache = CustomerCache.open(o.url ? cacheFileFor(urls[0]!, o.env) : undefined, urls[0]!);
    const setup = await setUpTarget(admin, urls[0]!, { seed, runId, customers: o.customers, hotStock: o.hotStock, hotUnits: o.hotUnits, cache });
    if (setup.customers.signedUp + setup.customers.signedIn > 0 && setup.customers.reused > 0) o.note(`customers: ${setup.customers.reused} reused, ${setup.customers.signedIn} signed in again, ${setup.customers.signedUp} signed up`);
    const model: LoadModel =
      o.stages !== undefined
        ? { kind: 'open', rate: Math.max(...o.stages.map((s) => s.toRate)), connections: o.connections, stages: o.stages }
        : o.rate !== undefined
          ? { kind: 'open', rate: o.rate, connections: o.connections }
          : { kind: 'closed', connections: o.connections };
    const schedule: ArrivalSchedule | undefined = o.stages ? stagedSchedule(o.stages) : o.rate !== undefined ? constantSchedule(o.rate, o.durationMs === undefined ? undefined : o.durationMs + o.warmupMs) : undefined;
    const workload = { customers: o.customers, hotStock: o.hotStock ?? null, hotUnits: o.hotUnits, scarce: setup.scarce, retryShare: o.retryShare, cancelShare: o.cancelShare, readShare: o.readShare, refundShare: o.refundShare, cancelPaidShare: o.cancelPaidShare };
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
          options: { connections: o.connections, rate: o.rate ?? null, durationMs: o.durationMs ?? null, orders: o.orders ?? null, warmupMs: o.warmupMs, ...workload, stages: o.stages ?? null },
        })
      : undefined;

    const cpuBefore = process.cpuUsage();
    const load = await runGenerator(
      {
        urls,
        tokens: setup.tokens,
        adminToken: adminKey,
        plan: { seed, runId, skus: setup.skus, customers: o.customers, readShare: o.readShare, retryShare: o.retryShare, cancelShare: o.cancelShare, refundShare: o.refundShare, cancelPaidShare: o.cancelPaidShare },
        model,
        durationMs: o.durationMs === undefined ? undefined : o.durationMs + o.warmupMs,
        orders: o.orders,
      },
      deployment && o.chaos.length > 0 ? (runMs) => startChaos(deployment!, o.chaos, runMs) : undefined,
      schedule && Number.isFinite(schedule.endMs) ? schedule.endMs : o.durationMs === undefined ? 10_000 : o.durationMs + o.warmupMs,
      history,
      o.onProgress,
      o.abortOnFail || o.findKnee ? (startedAt) => new LiveJudge(o.findKnee ? o.thresholds.filter(isUpperLimit) : o.thresholds, { startedAt, warmupMs: o.warmupMs, streak: o.findKnee ? KNEE_STREAK_S : ABORT_STREAK_S, schedule }) : undefined,
    );
    if (load.verdict) o.note(`${o.findKnee ? 'knee found' : 'aborted'}: ${load.verdict.thresholds.join(', ')} broken from second ${load.verdict.fromSecond} to ${load.verdict.atSecond}; load stopped`);
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = Math.max(1, load.endedAt - load.startedAt);
    const window = { from: load.startedAt + o.warmupMs, to: load.endedAt };
    await history?.end({ type: 'end', chaos: load.chaos, window, dropped: load.dropped, generatorBusy: load.busy });

    o.note(`load done (${load.records.length} requests); settling…`);
    const accepted = new Set(load.records.filter((r) => (r.op === 'order' || r.op === 'retry') && r.status === 201 && r.orderId).map((r) => r.orderId!));
    const settling = retryingClient(urls[0]!, adminKey, 'settling');
    const final = await settle(settling, accepted, o.settleTimeoutMs);
    const notOurs = 'needs the deployment\u2019s database: loadtest did not start this one (--url)';
    // The refunds and voids of orders cancelled after payment settle after the orders are final:
    // once they have, the checks (charged-once among them) read the state after them.
    const money = deployment ? await reconcileRunMoney(deployment, stockSetAt, o.settleTimeoutMs) : { skipped: notOurs };
    const settled = 'skipped' in money ? final : { ...final, snapshot: (await settle(settling, accepted, 0)).snapshot };
    // Returns come after the measured run and its checks' snapshot (a returned order is shipped
    // and partly refunded, which the run's own checks do not expect); doctor, below, reconciles
    // stock and money with them.
    if (o.returnShare > 0) {
      const confirmed = [...accepted].filter((id) => settled.snapshot.orders.get(id)?.status === 'confirmed');
      const returns = await returnShareOf(retryingClient(urls[0]!, adminKey, 'returns'), confirmed, o.returnShare, seed, o.settleTimeoutMs);
      o.note(`returns: ${returns.received} of ${returns.drawn} drawn orders shipped, returned, received and refunded`);
      for (const f of returns.failed) o.note(`return of order ${f.orderId} failed: ${f.why}`);
    }
    const doctor = deployment ? await doctorOf(deployment) : { skipped: notOurs };
    const knee = o.findKnee && schedule ? kneeOf(load.verdict, schedule, load.startedAt, load.endedAt) : undefined;
    const report = buildReport({
      records: load.records,
      ...(o.findKnee && load.verdict ? { thresholdsUntil: load.startedAt + load.verdict.fromSecond * 1000 } : {}),
      ...(o.findKnee ? { thresholdsInformational: true } : {}),
      ...(o.abortOnFail && load.verdict ? { abortedByThreshold: true } : {}),
      ...(o.stages ? { stages: o.stages } : {}),
      ...(knee ? { knee } : {}),
      settled,
      setup,
      stockSetAt,
      chaos: load.chaos,
      doctor,
      money,
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
        workload,
        customers: setup.customers,
        ...(o.stages ? { stages: o.stages } : {}),
        ...(load.verdict && o.abortOnFail ? { aborted: load.verdict } : {}),
      },
      settleTimeoutMs: o.settleTimeoutMs,
    });
    // A failed check (a 500 above all) is explained by what the servers and workers logged.
    const errors = report.checks.some((c) => c.status === 'fail') ? (deployment?.errorLines() ?? []) : [];
    if (errors.length > 0) o.note(`error lines the deployment's processes logged:\n${errors.join('\n')}`);
    return report;
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
  verdict: LiveVerdict | undefined;
}

/** Runs the generator thread to the end, gathering its records (and writing them to the history as they come). */
function runGenerator(
  config: GeneratorConfig,
  chaos: ((runMs: number) => { stop(): Promise<ChaosEvent[]> }) | undefined,
  runMs: number,
  history: HistoryWriter | undefined,
  onProgress: ((line: string) => void) | undefined,
  judgeFor?: (startedAt: number) => LiveJudge,
): Promise<LoadResult> {
  let judge: LiveJudge | undefined;
  let judging: NodeJS.Timeout | undefined;
  const worker = startGeneratorThread(config);
  const records: RequestRecord[] = [];
  // The chaos clock starts with the load, not with the thread (which takes a while to boot on a busy machine).
  let chaosRun: { stop(): Promise<ChaosEvent[]> } | undefined;
  let chaosStopped: Promise<ChaosEvent[]> | undefined;
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
      if (judging) clearInterval(judging);
      // Its message port would keep the thread (and this process) alive.
      void worker.terminate();
      (chaosStopped ?? chaosRun?.stop() ?? Promise.resolve([])).then(outcome, reject);
    };
    const failed = (message: string) => finish(() => reject(new CliError('INTERNAL', `the load generator failed: ${message}`)));
    worker.on('message', (m: GeneratorMessage) => {
      if (m.type === 'started') {
        chaosRun = chaos?.(runMs);
        if (judgeFor) {
          judge = judgeFor(m.at);
          judging = setInterval(() => {
            if (judge!.tick(Date.now())) {
              clearInterval(judging);
              worker.postMessage({ type: 'stop' });
            }
          }, 200);
        }
      } else if (m.type === 'loaded') {
        // The chaos lasts as long as the load: the admin's follow-ups that wait for their orders
        // after it (a refund once confirmed) would otherwise wait on workers killed for ever.
        chaosStopped = chaosRun?.stop();
      } else if (m.type === 'records') {
        for (const r of m.records) records.push(r);
        judge?.add(m.records);
        history?.requests(m.records);
      } else if (m.type === 'done') {
        finish((events) => resolve({ records, startedAt: m.startedAt, endedAt: m.endedAt, dropped: m.dropped, busy: m.busy, chaos: events, verdict: judge?.verdict }));
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
  money: CheckInput['money'];
  thresholds: Threshold[];
  window: { from: number; to: number };
  dropped: number;
  busy: number;
  processCpu: number;
  run: LoadtestReport['run'];
  settleTimeoutMs: number;
  /**
   * --find-knee: thresholds count only the requests due before the knee, and are reported, not
   * counted: they were the knee's criterion (a lone bad second before the knee is tolerated there).
   */
  thresholdsUntil?: number;
  thresholdsInformational?: boolean;
  /** --abort-on-fail stopped the load: a threshold was missed, whatever the whole run's figures say. */
  abortedByThreshold?: boolean;
  stages?: Stage[];
  knee?: NonNullable<LoadtestReport['knee']>;
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
    money: i.money,
  });
  const judged =
    i.thresholdsUntil === undefined
      ? metrics
      : metricsOf(summarize(i.records.filter((r) => r.scheduled < i.thresholdsUntil!), i.settled.snapshot, { from: i.window.from, to: i.thresholdsUntil }), { dropped: i.dropped, generatorBusy: i.busy });
  const thresholds = evaluateThresholds(i.thresholds, judged);
  const checksFailed = checks.some((c) => c.status === 'fail');
  const thresholdsMissed = i.abortedByThreshold === true || (i.thresholdsInformational !== true && thresholds.some((t) => !t.passed));
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
    outcomes: { ...summary.outcomes, shares: outcomeShares(summary.outcomes) },
    generator: { busy: i.busy, processCpu: i.processCpu },
    timeline: summary.timeline,
    thresholds: thresholds.map((t) => ({ expression: t.expression, metric: t.metric, op: t.op, limit: t.limit, actual: t.actual, passed: t.passed })),
    checks,
    ...(i.stages ? { stages: stageFigures(i.stages, i.records, i.window.from - i.run.warmupMs) } : {}),
    ...(i.knee ? { knee: i.knee } : {}),
  };
}

/** The share of accepted orders that ended each way: what the throughput figure was made of. */
export function outcomeShares(o: RunSummaryOutcomes): NonNullable<LoadtestReport['outcomes']['shares']> {
  const of = (n: number) => (o.accepted === 0 ? 0 : n / o.accepted);
  return { confirmed: of(o.confirmed), cancelled: Object.fromEntries(Object.entries(o.cancelled).map(([k, v]) => [k, of(v)])), notFinal: of(o.notFinal) };
}

type RunSummaryOutcomes = ReturnType<typeof summarize>['outcomes'];

// Operations' first requests: one record each, whatever retries and cancels followed.
const FIRST_OPS = new Set(['order', 'product', 'products', 'order-get']);

/** Per stage of --stages: operations scheduled (against the schedule's own count), sent late, and what the intake saw. */
export function stageFigures(stages: readonly Stage[], records: readonly RequestRecord[], startedAt: number): NonNullable<LoadtestReport['stages']> {
  const schedule = stagedSchedule(stages);
  let startMs = 0;
  let fromRate = 0;
  return stages.map((stage, index) => {
    const endMs = startMs + stage.durationMs;
    const inStage = records.filter((r) => r.scheduled - startedAt >= startMs && r.scheduled - startedAt < endMs);
    const intake = new Histogram();
    for (const r of inStage) if (INTAKE_OPS.includes(r.op)) intake.record(latencyOf(r));
    const out = {
      index,
      startMs,
      durationMs: stage.durationMs,
      fromRate,
      toRate: stage.toRate,
      due: schedule.dueBefore(endMs) - schedule.dueBefore(startMs),
      scheduled: inStage.filter((r) => FIRST_OPS.has(r.op)).length,
      late: inStage.filter((r) => r.start - r.scheduled > LATE_AFTER_MS).length,
      errors: inStage.filter(isError).length,
      intake: { count: intake.count, rps: intake.count / (stage.durationMs / 1000), p50: intake.percentile(50) ?? null, p99: intake.percentile(99) ?? null },
    };
    startMs = endMs;
    fromRate = stage.toRate;
    return out;
  });
}

/** The knee of a --find-knee ramp: the rate when the threshold began to break for good, or the top of the ramp when it never did. */
function kneeOf(verdict: LiveVerdict | undefined, schedule: ArrivalSchedule, startedAt: number, endedAt: number): NonNullable<LoadtestReport['knee']> {
  if (!verdict) return { found: false, heldRate: schedule.rateAt(Math.min(schedule.endMs, endedAt - startedAt)), brokenFromSecond: null, thresholds: [] };
  return { found: true, heldRate: schedule.rateAt(verdict.fromSecond * 1000), brokenFromSecond: verdict.fromSecond, thresholds: verdict.thresholds };
}

function nulls(l: { count: number; p50?: number | undefined; p90?: number | undefined; p95?: number | undefined; p99?: number | undefined; max?: number | undefined; mean?: number | undefined }) {
  return { count: l.count, p50: l.p50 ?? null, p90: l.p90 ?? null, p95: l.p95 ?? null, p99: l.p99 ?? null, max: l.max ?? null, mean: l.mean ?? null };
}
