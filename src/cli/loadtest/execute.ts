import { writeFileSync } from 'node:fs';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { printJson, printLine, printNote, useColor } from '../output.js';
import { bearerClient } from './api.js';
import { parseChaos } from './chaos.js';
import { readHistory } from './history.js';
import type { LoadtestReport } from './report-schema.js';
import { renderText } from './report-text.js';
import { buildReport, runLoadtest } from './run-loadtest.js';
import { settle } from './snapshot.js';
import { thresholdsFromFlags } from './thresholds.js';

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
  chaos?: string[];
  history?: string;
}

const DEFAULT_SETTLE_TIMEOUT_MS = 60_000;

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
  const thresholds = thresholdsFromFlags(f);
  const chaos = (f.chaos ?? []).map(parseChaos);
  const json = f.json === true;
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
      // An open loop needs room for the requests that pile up while the target is slow.
      connections: f.connections ?? (f.rate !== undefined ? 256 : 16),
      rate: f.rate,
      durationMs: f.orders !== undefined ? f.duration : (f.duration ?? 10_000),
      orders: f.orders,
      warmupMs: f.warmup ?? 0,
      seed: f.seed,
      customers: f.customers ?? 20,
      hotStock: f.hotStock ?? 1,
      hotUnits: f.hotUnits ?? 20,
      retryShare: f.retryShare ?? 0.05,
      cancelShare: f.cancelShare ?? 0.05,
      readShare: f.readShare ?? 0.2,
      chaos,
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
  await finish(report, f);
}

/** `buildflow loadtest check FILE --url …`: the checks again, on a history. */
export async function executeCheck(file: string, f: ReportFlags & { url: string; adminKey?: string }): Promise<void> {
  const thresholds = thresholdsFromFlags(f);
  const history = readHistory(file);
  const adminKey = f.adminKey ?? process.env.BUILDFLOW_ADMIN_KEY;
  if (!adminKey) throw new CliError('USAGE', 'checks need the admin key (--admin-key or BUILDFLOW_ADMIN_KEY)');
  const admin = bearerClient(f.url, adminKey);
  const records = history.records;
  const accepted = new Set(records.filter((r) => (r.op === 'order' || r.op === 'retry') && r.status === 201 && r.orderId).map((r) => r.orderId!));
  const settleTimeoutMs = f.settleTimeout ?? DEFAULT_SETTLE_TIMEOUT_MS;
  const settled = await settle(admin, accepted, settleTimeoutMs);
  const h = history.header;
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
  await finish(report, f);
}

async function finish(report: LoadtestReport, f: ReportFlags): Promise<void> {
  if (f.junit) {
    const { renderJunit } = await import('./report-junit.js');
    writeFileSync(f.junit, renderJunit(report));
  }
  if (f.report) {
    const { renderHtml } = await import('./report-html.js');
    writeFileSync(f.report, renderHtml(report));
  }
  if (f.json) printJson(report);
  else printLine(renderText(report, useColor()));
  if (report.exitCode === ExitCode.CHECKS_FAILED) {
    const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.name);
    throw new CliError('CHECKS_FAILED', `checks failed: ${failed.join(', ')}`, { exitCode: ExitCode.CHECKS_FAILED, dataPrinted: true });
  }
  if (report.exitCode === ExitCode.THRESHOLDS_MISSED) {
    const missed = report.thresholds.filter((t) => !t.passed).map((t) => t.expression);
    throw new CliError('THRESHOLDS_MISSED', `thresholds missed: ${missed.join(', ')}`, { exitCode: ExitCode.THRESHOLDS_MISSED, dataPrinted: true });
  }
}
