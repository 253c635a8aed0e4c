import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportSchema } from '../../../src/cli/loadtest/report/report-schema.js';
import { CLI_ADMIN_KEY, assertBuilt, json, runCli, tempDir, type RunResult } from '../harness.js';
import { startBrokenTarget } from './broken-target.js';

// TypeBox checks only the formats it is told about; the report's times are ISO 8601.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v));

const tmp = tempDir('buildflow-loadtest-reports-');
const files = { json: '', junit: join(tmp.dir, 'loadtest.xml'), html: join(tmp.dir, 'report.html'), history: join(tmp.dir, 'history.jsonl') };
let target: Awaited<ReturnType<typeof startBrokenTarget>>;
let run: RunResult;
let report: any;

beforeAll(async () => {
  assertBuilt();
  // A target that loses an order, so the reports carry a failed check with its evidence.
  target = await startBrokenTarget('lose-order', CLI_ADMIN_KEY);
  run = await runCli([
    'loadtest', '--url', target.url, '--duration', '1500ms', '--customers', '2', '--connections', '4', '--settle-timeout', '1s',
    '--json', '--junit', files.junit, '--report', files.html, '--history', files.history, '--max-p99', '10s', '--threshold', 'intake.rps>1000000',
  ]);
  report = json(run);
}, 60_000);
afterAll(async () => {
  await target?.close();
  tmp.remove();
});

describe('loadtest reports', () => {
  it('when --json is given, then the report validates against the published schema', async () => {
    expect(run.code).toBe(11);
    const errors = [...Value.Errors(ReportSchema, report)].map((e) => `${e.path}: ${e.message}`);
    expect(errors).toEqual([]);
    expect(report.schemaVersion).toBe(1);
    const printed = await runCli(['loadtest', 'schema']);
    expect(JSON.parse(printed.stdout).title).toBe('buildflow loadtest report');
  });

  it('when the report has a non-schema field or a wrong type, then it does not validate (the schema is strict)', () => {
    expect(Value.Check(ReportSchema, { ...report, extra: 1 })).toBe(false);
    expect(Value.Check(ReportSchema, { ...report, exitCode: 'eleven' })).toBe(false);
  });

  it('when --junit is given, then the file is well-formed JUnit with a test case per check and threshold and the failure evidence', () => {
    const xml = readFileSync(files.junit, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suites = doc.testsuites.testsuite as { name: string; tests: string; failures: string; testcase: any[] }[];
    expect(suites.map((s) => [s.name, Number(s.tests)])).toEqual([
      ['loadtest.checks', report.checks.length],
      ['loadtest.thresholds', 2],
    ]);
    const lost = suites[0]!.testcase.find((c) => c.name === 'accepted-orders-final');
    expect(lost.failure.message).toMatch(/^1 of \d+ accepted orders lost or not final/);
    expect(lost.failure['#text']).toMatch(/^first: order [0-9a-f-]{36} got 201 but the target does not have it/);
    const doctor = suites[0]!.testcase.find((c) => c.name === 'doctor');
    expect(doctor.skipped).toBeDefined();
    const rps = suites[1]!.testcase.find((c) => c.name === 'intake.rps>1000000');
    expect(rps.failure.message).toMatch(/^intake\.rps = [\d.]+, wanted > 1000000$/);
  });

  it('when --history is given, then every request is a line, and `loadtest check` finds the same failure offline', async () => {
    const lines = readFileSync(files.history, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'run', version: 1, seed: report.run.seed, runId: report.run.runId });
    expect(lines.at(-1)).toMatchObject({ type: 'end' });
    expect(lines.filter((l) => l.type === 'request')).toHaveLength(Object.values(report.errors.byStatus as Record<string, number>).reduce((a, b) => a + b, 0));
    const again = await runCli(['loadtest', 'check', files.history, '--url', target.url, '--settle-timeout', '500ms', '--json']);
    expect(again.code).toBe(11);
    const checked = json(again);
    const lost = (r: any) => r.checks.find((c: { name: string }) => c.name === 'accepted-orders-final');
    expect(lost(checked).samples).toEqual(lost(report).samples);
    expect(checked.run.seed).toBe(report.run.seed);
  });

  it('when a history comes from a sound target, then `loadtest check` passes with exit 0; a file that is not a history is refused', async () => {
    const good = await startBrokenTarget('none', CLI_ADMIN_KEY);
    try {
      const history = join(tmp.dir, 'good.jsonl');
      const first = await runCli(['loadtest', '--url', good.url, '--duration', '1s', '--customers', '2', '--connections', '2', '--history', history, '--json']);
      expect(first.code, first.stderr).toBe(0);
      const again = await runCli(['loadtest', 'check', history, '--url', good.url]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/✓ │ accepted-orders-final/);
    } finally {
      await good.close();
    }
    const bogus = tmp.file('bogus.jsonl', '{"hello":1}\n');
    const refused = await runCli(['loadtest', 'check', bogus, '--url', target.url]);
    expect([refused.code, refused.stderr]).toEqual([4, `error: ${bogus}:1: not a buildflow loadtest history (no run header of version 1)\n`]);
  });

  it('when --report is given, then one self-contained page renders its three charts in headless Chromium', async (ctx) => {
    const html = readFileSync(files.html, 'utf8');
    // Self-contained: no external scripts, styles, images or fonts.
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html.match(/<svg [^>]*class="chart"/g)).toHaveLength(3);
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
    if (!chromium) {
      console.warn('SKIPPED: headless Chromium is not installed (apt-get install -y chromium); the HTML report was not rendered');
      ctx.skip();
      return;
    }
    const profile = mkdtempSync(join(tmpdir(), 'buildflow-chromium-'));
    try {
      const { stdout } = await promisify(execFile)(
        chromium,
        ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', `file://${files.html}`],
        { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      );
      // The page's own script counts the charts that laid out with a size…
      expect(stdout).toMatch(/<body [^>]*data-charts-drawn="3"/);
      expect(stdout).toContain('accepted-orders-final');
      // …and reads the colour each legend entry is painted in: every series of a chart tells apart.
      const colors = /data-legend-colors="([^"]*)"/.exec(stdout)![1]!.split(';');
      expect(colors).toHaveLength(5);
      expect(new Set(colors.slice(0, 3)).size).toBe(3);
      expect(new Set(colors.slice(3)).size).toBe(2);
      expect(colors).not.toContain('rgb(85, 85, 85)');
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }, 90_000);

  it('when --report is given, then every figure has its unit, the axes ticks, the outcomes a table, and a partial last second is drawn dashed', () => {
    const html = readFileSync(files.html, 'utf8');
    for (const unit of ['requests per second', 'latency (ms)', 'second of the run (s)', 'orders']) expect(html).toContain(unit);
    // Ticks on both axes of each line chart.
    for (const id of ['throughput', 'latency']) {
      const svg = new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(html)![0];
      expect(svg.match(/class="tick"/g)!.length).toBeGreaterThanOrEqual(6);
    }
    expect(html).toMatch(/<h2>Outcomes of accepted orders<\/h2><table><tr><th>outcome<\/th><th>orders<\/th><th>share<\/th><\/tr><tr><td>confirmed<\/td><td>\d+<\/td><td>[\d.]+%<\/td><\/tr>/);
    expect(html).not.toMatch(/cancelled \{/);
    // Thresholds with units.
    expect(html).toMatch(/<td>intake\.p99&lt;=10000ms<\/td><td>[\d.]+ ms<\/td>/);
    expect(html).toMatch(/<td>intake\.rps&gt;1000000<\/td><td>[\d.]+ req\/s<\/td>/);
    // A 1.5 s run ends with half a second: drawn dashed and named as partial.
    expect(report.timeline.at(-1).spanMs).toBeLessThan(1000);
    expect(html).toContain('class="partial"');
    expect(html).toContain('dashed: last second, partly run');
  });
});
