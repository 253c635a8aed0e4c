import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompareReportSchema, ReportSchema } from '../../../src/cli/loadtest/report/report-schema.js';
import { CLI_ADMIN_KEY, assertBuilt, json, runCli, tempDir } from '../harness.js';
import { startBrokenTarget } from './broken-target.js';
import { startFaultyProxy } from './faulty-proxy.js';

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v));

const tmp = tempDir('buildflow-loadtest-compare-');
let target: Awaited<ReturnType<typeof startBrokenTarget>>;
// The same workload every run: seed, open-loop rate, mix. Each run 2 s at 60 ops/s.
const WORKLOAD = ['--seed', '11', '--rate', '60', '--duration', '2s', '--customers', '3', '--read-share', '0.2', '--settle-timeout', '2s'];
// Both "same build" runs go through a proxy adding 300 ms, so their latencies stand well above the
// jitter of a shared 2-core machine (seen at +150 ms under a load average of 15). On such a machine
// 100 % is the sensible tolerance; the slowed build adds 900 ms, four times the baseline.
const SAME_BUILD_DELAY_MS = 300;
const SLOWER_BY_MS = 900;
const TOLERANCE = '100%';

async function runThrough(faults: Parameters<typeof startFaultyProxy>[1], name: string, extra: string[] = []) {
  const proxy = await startFaultyProxy(target.url, faults);
  try {
    const result = await runCli(['loadtest', '--url', proxy.url, ...WORKLOAD, '--json', ...extra]);
    const file = join(tmp.dir, `${name}.json`);
    writeFileSync(file, result.stdout);
    return { result, file, report: json(result) };
  } finally {
    await proxy.close();
  }
}

let base: Awaited<ReturnType<typeof runThrough>>;
let again: Awaited<ReturnType<typeof runThrough>>;

beforeAll(async () => {
  assertBuilt();
  target = await startBrokenTarget('none', CLI_ADMIN_KEY);
  base = await runThrough({ delayMs: SAME_BUILD_DELAY_MS }, 'base');
  again = await runThrough({ delayMs: SAME_BUILD_DELAY_MS }, 'again');
}, 120_000);
afterAll(async () => {
  await target?.close();
  tmp.remove();
});

describe('loadtest compare', () => {
  it('when two runs of the same build are compared at 100%, then it passes (exit 0) and shows each change beside its noise', async () => {
    expect([base.result.code, again.result.code], base.result.stderr + again.result.stderr).toEqual([0, 0]);
    const out = await runCli(['loadtest', 'compare', base.file, again.file, '--tolerance', TOLERANCE, '--json']);
    const c = json(out);
    expect(out.code, JSON.stringify(c.metrics.filter((m: { passed: boolean }) => !m.passed))).toBe(0);
    expect([...Value.Errors(CompareReportSchema, c)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
    const p50 = c.metrics.find((m: { metric: string }) => m.metric === 'intake.p50');
    expect(p50).toMatchObject({ better: 'lower', kind: 'relative', tolerance: 1, judged: true, passed: true });
    expect(p50.base).toBeGreaterThanOrEqual(SAME_BUILD_DELAY_MS);
    // About a hundred orders a run: their p99 is the second slowest, shown but too thin to judge.
    expect(c.metrics.find((m: { metric: string }) => m.metric === 'intake.p99')).toMatchObject({ judged: false, passed: true });
    // Per-second figures give the throughput's noise; two seconds of one run are too few for it, so null is honest too.
    const rps = c.metrics.find((m: { metric: string }) => m.metric === 'intake.rps');
    expect(rps.noise === null || rps.noise >= 0).toBe(true);
    // The outcome mix is compared in percentage points.
    expect(c.metrics.find((m: { metric: string }) => m.metric === 'outcomes.confirmed')).toMatchObject({ kind: 'points', tolerance: 0.05, passed: true });
    const text = await runCli(['loadtest', 'compare', base.file, again.file, '--tolerance', TOLERANCE]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/│ ✓ │ intake\.p50 +│ [\d.]+ m?s +│ [\d.]+ m?s +│ [+-][\d.]+% +│ [–±][\d.%]* +│ \+100% +│/);
    expect(text.stdout).toMatch(/│ · │ intake\.p99 +│ .* │ too few requests beyond it to judge │/);
  });

  it('when the new run went through a proxy that slows every request by 900 ms more, then compare fails with exit 12 naming the latency metric', async () => {
    const slow = await runThrough({ delayMs: SAME_BUILD_DELAY_MS + SLOWER_BY_MS }, 'slow');
    const out = await runCli(['loadtest', 'compare', base.file, slow.file, '--tolerance', TOLERANCE, '--junit', join(tmp.dir, 'compare.xml')]);
    expect(out.code, out.stdout).toBe(12);
    expect(out.stderr).toMatch(/^error: worse than the baseline: .*\bintake\.p50\b/m);
    expect(out.stdout).toMatch(/│ ✗ │ intake\.p50 /);
    // Run directly against the baseline, the run itself exits 12 and carries the comparison in its report.
    const junit = join(tmp.dir, 'direct.xml');
    const direct = await runThrough({ delayMs: SAME_BUILD_DELAY_MS + SLOWER_BY_MS }, 'direct', ['--baseline', base.file, '--tolerance', TOLERANCE, '--junit', junit]);
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite name="loadtest.compare" tests="\d+" failures="[1-9]\d*"[^>]*>[\s\S]*<testcase classname="loadtest.compare.metrics" name="intake.p50" time="0">\n      <failure message="[\d.]+ m?s → [\d.]+ m?s/);
    expect(direct.result.code).toBe(12);
    expect(direct.report.exitCode).toBe(12);
    expect(direct.report.comparison.metrics.filter((m: { passed: boolean }) => !m.passed).map((m: { metric: string }) => m.metric)).toContain('intake.p50');
    expect([...Value.Errors(ReportSchema, direct.report)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
  }, 60_000);

  it('when the new run went through a proxy that loses one order in 25, then compare fails with exit 12 naming the check', async () => {
    const lossy = await runThrough({ delayMs: SAME_BUILD_DELAY_MS, loseOrderEvery: 25 }, 'lossy');
    expect(lossy.result.code).toBe(11);
    const out = await runCli(['loadtest', 'compare', base.file, lossy.file, '--tolerance', TOLERANCE, '--json']);
    expect(out.code).toBe(12);
    const c = json(out);
    expect(c.checks.find((x: { name: string }) => x.name === 'accepted-orders-final')).toEqual({ name: 'accepted-orders-final', base: 'pass', new: 'fail', passed: false });
    expect(out.stderr).toMatch(/check accepted-orders-final/);
  }, 60_000);

  it('when the runs are of different workloads, then compare refuses (exit 2) unless --force', async () => {
    const other = join(tmp.dir, 'other-seed.json');
    writeFileSync(other, JSON.stringify({ ...again.report, run: { ...again.report.run, seed: 12, workload: { ...again.report.run.workload, readShare: 0.5 } } }));
    const refused = await runCli(['loadtest', 'compare', base.file, other]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: the runs are of different workloads \(seed 11 vs 12; read-share 0\.2 vs 0\.5\).*--force/);
    const forced = await runCli(['loadtest', 'compare', base.file, other, '--force', '--tolerance', TOLERANCE]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/different workloads, compared with --force/);
    const html = join(tmp.dir, 'compare.html');
    const page = await runCli(['loadtest', 'compare', base.file, again.file, '--tolerance', TOLERANCE, '--report', html]);
    expect(page.stderr).toBe(`wrote HTML report to ${html}\n`);
    expect(readFileSync(html, 'utf8')).toMatch(/<tr><th><\/th><th>metric<\/th><th>baseline<\/th><th>this run<\/th><th>change<\/th><th>noise<\/th><th>tolerance<\/th><\/tr>/);
    // Against a baseline, a run whose flags change the workload is refused before any load.
    const before = target.orders();
    const early = await runCli(['loadtest', '--url', target.url, '--baseline', base.file, '--read-share', '0.5']);
    expect([early.code, early.stderr]).toEqual([2, "error: this run's workload differs from the baseline's (read-share 0.2 vs 0.5): leave those flags out to run the baseline's, or --force\n"]);
    expect(target.orders()).toBe(before);
    const bad = await runCli(['loadtest', 'compare', base.file, tmp.file('nope.json', '{"a":1}')]);
    expect(bad.code).toBe(4);
  });
});
