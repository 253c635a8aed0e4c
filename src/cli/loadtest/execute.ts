import { readFileSync, writeFileSync } from 'node:fs';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { printJson, printLine, printNote, useColor } from '../output.js';
import { retryingClient } from './target/api.js';
import type { Stage } from './generator/arrival-schedule.js';
import { parseChaos } from './deployment/chaos.js';
import { compareReports, comparisonFailures, workloadDifferences, type Tolerances } from './report/compare.js';
import { readHistory } from './report/history.js';
import { checkOutputPaths } from './report/output-paths.js';
import type { LoadtestReport } from './report/report-schema.js';
import { renderText } from './report/report-text.js';
import { buildReport, runLoadtest } from './run-loadtest.js';
import { settle } from './checks/snapshot.js';
import { thresholdsFromFlags } from './metrics/thresholds.js';
import { DEFAULT_TOLERANCE } from './report/compare.js';
import { judgedLive } from './metrics/live-judge.js';

interface ReportFlags {
  maxP99?: number;
  minRps?: number;
  maxErrorRate?: number;
  maxE2eP99?: number;
  threshold?: string[];
  settleTimeout?: number;
  json?: boolean;
  junit?: string;
  report?: string;
  baseline?: string;
  tolerance?: Tolerances;
  force?: boolean;
}

interface LoadtestFlags extends ReportFlags {
  url?: string;
  adminKey?: string;
  backend: 'sqlite' | 'postgres' | 'postgres+redis';
  servers?: number;
  workers?: number;
  keep?: boolean;
  connections?: number;
  rate?: number;
  duration?: number;
  orders?: number;
  warmup?: number;
  seed?: number;
  customers?: number;
  hotStock?: number;
  hotUnits?: number;
  retryShare?: number;
  cancelShare?: number;
  readShare?: number;
  refundShare?: number;
  cancelPaidShare?: number;
  returnShare?: number;
  chaos?: string[];
  history?: string;
  stages?: Stage[];
  abortOnFail?: boolean;
  findKnee?: boolean;
}

const DEFAULT_SETTLE_TIMEOUT_MS = 60_000;
// --find-knee without --stages: one linear ramp from 0 to --rate over --duration.
const DEFAULT_KNEE_MS = 30_000;
const DEFAULT_KNEE_RATE = 1000;

/** A single progress line rewritten in place, only for a person at a terminal. */
function progressLine(json: boolean): { update?: (line: string) => void; done(): void } {
  if (json || !process.stderr.isTTY || (process.env.CI ?? '') !== '') return { done() {} };
  let shown = false;
  return {
    update: (line) => {
      shown = true;
      process.stderr.write(`\r\u001b[2K${line}`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\u001b[2K');
    },
  };
}

/** `buildflow loadtest`: runs, reports, and ends with the exit code the outcome calls for. */
export async function executeLoadtest(f: LoadtestFlags): Promise<void> {
  if (f.duration !== undefined && f.orders !== undefined) throw new CliError('USAGE', '--duration and --orders exclude each other');
  if (f.stages !== undefined) {
    for (const [flag, given] of [['--rate', f.rate], ['--duration', f.duration], ['--orders', f.orders], ['--warmup', f.warmup]] as const) {
      if (given !== undefined) throw new CliError('USAGE', `--stages sets the rate and the length of the run: leave out ${flag}`);
    }
  }
  const thresholds = thresholdsFromFlags(f);
  if (f.findKnee && f.abortOnFail) throw new CliError('USAGE', '--find-knee stops at the knee by itself: leave out --abort-on-fail');
  if (f.abortOnFail && !thresholds.some((t) => judgedLive(t.metric))) {
    throw new CliError('USAGE', '--abort-on-fail needs a threshold judged second by second (a latency, a rate or errors.rate), e.g. --max-p99 200ms');
  }
  if (f.findKnee && !thresholds.some((t) => judgedLive(t.metric) && (t.op === '<' || t.op === '<='))) {
    throw new CliError('USAGE', '--find-knee needs a ceiling to break (a latency or errors.rate with < or <=), e.g. --max-p99 200ms');
  }
  // Files are checked before any load is sent; the baseline is read now for the same reason.
  const outputs = checkOutputPaths({ report: f.report, junit: f.junit, history: f.history });
  const base = f.baseline !== undefined ? readReport(f.baseline) : undefined;
  // Against a baseline, what the command line leaves open is the baseline's: the same workload again.
  const w = base?.run.workload;
  const sameModel = base && f.rate === undefined && f.stages === undefined && f.connections === undefined;
  const stages = f.stages ?? (sameModel ? base.run.stages : undefined) ?? (f.findKnee ? [{ durationMs: f.duration ?? DEFAULT_KNEE_MS, toRate: f.rate ?? DEFAULT_KNEE_RATE }] : undefined);
  const rate = stages ? undefined : (f.rate ?? (sameModel ? (base.run.rate ?? undefined) : undefined));
  const connections = f.connections ?? (sameModel ? base.run.connections : undefined);
  const duration = stages ? undefined : (f.duration ?? (base && f.orders === undefined ? (base.run.durationMs ?? undefined) : undefined));
  const chaos = (f.chaos ?? []).map(parseChaos);
  const json = f.json === true;
  const resolved = {
    seed: f.seed ?? base?.run.seed,
    customers: f.customers ?? w?.customers ?? 20,
    hotStock: f.hotStock ?? w?.hotStock ?? undefined,
    hotUnits: f.hotUnits ?? w?.hotUnits ?? 20,
    retryShare: f.retryShare ?? w?.retryShare ?? 0.05,
    cancelShare: f.cancelShare ?? w?.cancelShare ?? 0.05,
    readShare: f.readShare ?? w?.readShare ?? 0.2,
    refundShare: f.refundShare ?? w?.refundShare ?? 0,
    cancelPaidShare: f.cancelPaidShare ?? w?.cancelPaidShare ?? 0,
    // An open loop needs room for the requests that pile up while the target is slow.
    connections: connections ?? (rate !== undefined || stages !== undefined ? 256 : 16),
  };
  if (base && f.force !== true) {
    // Refused before the load, not after it: a comparison of different workloads would say nothing.
    const planned = {
      run: { seed: resolved.seed ?? -1, model: rate !== undefined || stages ? 'open' : 'closed', connections: resolved.connections, rate: rate ?? (stages ? Math.max(...stages.map((g) => g.toRate)) : null), stages, workload: { ...resolved, hotStock: resolved.hotStock ?? null, scarce: [] } },
    } as unknown as LoadtestReport;
    const differences = workloadDifferences(base, planned);
    if (differences.length > 0) throw new CliError('USAGE', `this run's workload differs from the baseline's (${differences.join('; ')}): leave those flags out to run the baseline's, or --force`);
  }
  const progress = progressLine(json);
  let report: LoadtestReport;
  try {
    report = await runLoadtest({
      url: f.url,
      adminKey: f.adminKey ?? process.env.BUILDFLOW_ADMIN_KEY,
      backend: f.backend,
      servers: f.servers ?? 1,
      workers: f.workers,
      keep: f.keep === true,
      connections: resolved.connections,
      rate,
      durationMs: stages ? undefined : f.orders !== undefined ? duration : (duration ?? 10_000),
      orders: f.orders,
      warmupMs: f.warmup ?? (base && !stages ? base.run.warmupMs : 0),
      seed: resolved.seed,
      customers: resolved.customers,
      hotStock: resolved.hotStock,
      hotUnits: resolved.hotUnits,
      retryShare: resolved.retryShare,
      cancelShare: resolved.cancelShare,
      readShare: resolved.readShare,
      refundShare: resolved.refundShare,
      cancelPaidShare: resolved.cancelPaidShare,
      returnShare: f.returnShare ?? 0,
      chaos,
      stages,
      abortOnFail: f.abortOnFail === true,
      findKnee: f.findKnee === true,
      settleTimeoutMs: f.settleTimeout ?? DEFAULT_SETTLE_TIMEOUT_MS,
      history: f.history,
      thresholds,
      onProgress: progress.update,
      note: json ? () => {} : printNote,
      env: process.env,
    });
  } finally {
    progress.done();
  }
  if (base) report.comparison = compareReports(base, report, f.tolerance ?? { relative: DEFAULT_TOLERANCE, perMetric: {} }, f.force === true);
  await finish(report, f, outputs);
}

/** `buildflow loadtest compare BASE.json NEW.json`: the second run against the first. */
export async function executeCompare(baseFile: string, newFile: string, f: { tolerance?: Tolerances; force?: boolean; json?: boolean; junit?: string; report?: string }): Promise<void> {
  const outputs = checkOutputPaths({ report: f.report, junit: f.junit });
  const base = readReport(baseFile);
  const next = readReport(newFile);
  const c = compareReports(base, next, f.tolerance ?? { relative: DEFAULT_TOLERANCE, perMetric: {} }, f.force === true);
  const { renderComparisonText, renderComparisonJunit, renderComparisonHtml } = await import('./report/report-compare.js');
  if (outputs.junit) writeOut(outputs.junit, renderComparisonJunit(c), 'JUnit', f.json === true);
  if (outputs.report) writeOut(outputs.report, renderComparisonHtml(c), 'HTML report', f.json === true);
  if (f.json) printJson({ schemaVersion: 1, kind: 'compare', ...c });
  else printLine(renderComparisonText(c, useColor()));
  if (!c.passed) throw new CliError('COMPARE_FAILED', `worse than the baseline: ${comparisonFailures(c).join(', ')}`, { exitCode: ExitCode.COMPARE_FAILED, dataPrinted: true });
}

/** A report written by `loadtest --json`; anything else is refused naming the file. */
function readReport(file: string): LoadtestReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError('FILE_UNREADABLE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let r: Partial<LoadtestReport>;
  try {
    r = JSON.parse(text);
  } catch {
    throw new CliError('VALIDATION_FAILED', `${file} is not JSON (write a baseline with loadtest --json > FILE)`);
  }
  if (r?.schemaVersion !== 1 || typeof r.run !== 'object' || typeof r.metrics !== 'object' || !Array.isArray(r.checks) || !Array.isArray(r.timeline)) {
    throw new CliError('VALIDATION_FAILED', `${file} is not a loadtest --json report of schemaVersion 1`);
  }
  return r as LoadtestReport;
}

function writeOut(path: string, text: string, what: string, quiet: boolean): void {
  writeFileSync(path, text);
  if (!quiet) printNote(`wrote ${what} to ${path}`);
}

/** `buildflow loadtest check FILE --url …`: the checks again, on a history. */
export async function executeCheck(file: string, f: ReportFlags & { url: string; adminKey?: string }): Promise<void> {
  const thresholds = thresholdsFromFlags(f);
  const outputs = checkOutputPaths({ report: f.report, junit: f.junit });
  const history = readHistory(file);
  const adminKey = f.adminKey ?? process.env.BUILDFLOW_ADMIN_KEY;
  if (!adminKey) throw new CliError('USAGE', 'checks need the admin key (--admin-key or BUILDFLOW_ADMIN_KEY)');
  const admin = retryingClient(f.url, adminKey, 'check');
  const records = history.records;
  const accepted = new Set(records.filter((r) => (r.op === 'order' || r.op === 'retry') && r.status === 201 && r.orderId).map((r) => r.orderId!));
  const settleTimeoutMs = f.settleTimeout ?? DEFAULT_SETTLE_TIMEOUT_MS;
  const h = history.header;
  // A deployment that has none of the history's orders is not the one it ran against (or was reset):
  // say so at once, rather than wait out the settle time and report every order lost.
  if (accepted.size > 0) {
    const { fetchAll } = await import('./target/api.js');
    const known = new Set((await fetchAll<{ id: string }>(admin, '/v1/orders')).map((o) => o.id));
    if (![...accepted].some((id) => known.has(id))) {
      throw new CliError('NOT_FOUND', `none of the ${accepted.size} orders ${file} accepted exist at ${f.url}: is this the deployment the history ran against (${h.urls.join(', ')})?`);
    }
  }
  const settled = await settle(admin, accepted, settleTimeoutMs);
  const first = records.reduce((m, r) => Math.min(m, r.scheduled), Infinity);
  const last = records.reduce((m, r) => Math.max(m, r.end), -Infinity);
  const window = history.trailer?.window ?? { from: Number.isFinite(first) ? first : 0, to: Number.isFinite(last) ? last : 0 };
  const opt = h.options as { connections?: number; rate?: number | null; durationMs?: number | null; orders?: number | null; warmupMs?: number };
  const report = buildReport({
    records,
    settled,
    setup: { initialStock: h.initialStock },
    stockSetAt: h.stockSetAt,
    chaos: history.trailer?.chaos ?? [],
    doctor: { skipped: 'loadtest check reads the deployment over HTTP only' },
    money: { skipped: 'loadtest check reads the deployment over HTTP only' },
    thresholds,
    window,
    dropped: history.trailer?.dropped ?? 0,
    busy: history.trailer?.generatorBusy ?? 0,
    processCpu: 0,
    settleTimeoutMs,
    run: {
      runId: h.runId,
      seed: h.seed,
      model: h.model === 'open' ? 'open' : 'closed',
      connections: opt.connections ?? 0,
      rate: opt.rate ?? null,
      durationMs: opt.durationMs ?? null,
      orders: opt.orders ?? null,
      warmupMs: opt.warmupMs ?? 0,
      startedAt: new Date(window.from - (opt.warmupMs ?? 0)).toISOString(),
      endedAt: new Date(window.to).toISOString(),
      measuredMs: window.to - window.from,
      target: { kind: 'url', urls: [f.url], servers: 1, workers: 0 },
      chaos: history.trailer?.chaos ?? [],
      settle: { settled: settled.settled, waitedMs: settled.waitedMs, timeoutMs: settleTimeoutMs },
    },
  });
  await finish(report, f, outputs);
}

async function finish(report: LoadtestReport, f: ReportFlags & { history?: string }, outputs: Record<string, string>): Promise<void> {
  if (report.comparison && !report.comparison.passed && report.exitCode !== ExitCode.CHECKS_FAILED) {
    report.exitCode = ExitCode.COMPARE_FAILED;
    report.passed = false;
  }
  const quiet = f.json === true;
  if (outputs.junit) {
    const { renderJunit } = await import('./report/report-junit.js');
    writeOut(outputs.junit, renderJunit(report), 'JUnit', quiet);
  }
  if (outputs.report) {
    const { renderHtml } = await import('./report/report-html.js');
    writeOut(outputs.report, renderHtml(report), 'HTML report', quiet);
  }
  if (outputs.history && !quiet) printNote(`wrote history to ${outputs.history}`);
  if (Object.keys(outputs).length > 0) report.outputs = outputs;
  if (f.json) printJson(report);
  else printLine(renderText(report, useColor()));
  if (report.exitCode === ExitCode.COMPARE_FAILED && report.comparison) {
    throw new CliError('COMPARE_FAILED', `worse than the baseline: ${comparisonFailures(report.comparison).join(', ')}`, { exitCode: ExitCode.COMPARE_FAILED, dataPrinted: true });
  }
  if (report.exitCode === ExitCode.CHECKS_FAILED) {
    const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.name);
    throw new CliError('CHECKS_FAILED', `checks failed: ${failed.join(', ')}`, { exitCode: ExitCode.CHECKS_FAILED, dataPrinted: true });
  }
  if (report.exitCode === ExitCode.THRESHOLDS_MISSED) {
    const missed = report.thresholds.filter((t) => !t.passed).map((t) => t.expression);
    throw new CliError('THRESHOLDS_MISSED', `thresholds missed: ${missed.join(', ')}`, { exitCode: ExitCode.THRESHOLDS_MISSED, dataPrinted: true });
  }
}
