import Table from 'cli-table3';
import type { Comparison } from './report-schema.js';
import { formatMs } from '../units.js';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A metric's value in its unit: ms for latencies, % for shares, req/s for rates. */
export function formatMetric(metric: string, v: number): string {
  if (/\.(p\d+|max|mean)$/.test(metric)) return formatMs(v);
  if (metric.endsWith('.rps')) return `${v.toFixed(1)} req/s`;
  if (metric.startsWith('outcomes.') || metric.endsWith('.rate')) return `${(v * 100).toFixed(2)}%`;
  return String(v);
}

function formatChange(m: Comparison['metrics'][number]): string {
  if (m.change === null) return 'from 0';
  if (m.kind === 'points') return `${m.change >= 0 ? '+' : ''}${(m.change * 100).toFixed(2)} pt`;
  return `${m.change >= 0 ? '+' : ''}${(m.change * 100).toFixed(1)}%`;
}

function formatTolerance(m: Comparison['metrics'][number]): string {
  return m.kind === 'points' ? `±${(m.tolerance * 100).toFixed(2)} pt` : `${m.better === 'higher' ? '−' : '+'}${(m.tolerance * 100).toFixed(0)}%`;
}

function rows(c: Comparison): string[][] {
  return c.metrics.map((m) => [
    !m.judged ? '·' : m.passed ? '✓' : '✗',
    m.metric,
    formatMetric(m.metric, m.base),
    formatMetric(m.metric, m.new),
    formatChange(m),
    m.noise === null ? '–' : `±${(m.noise * 100).toFixed(1)}%`,
    m.judged ? formatTolerance(m) : 'too few requests beyond it to judge',
  ]);
}

const HEAD = ['', 'metric', 'baseline', 'this run', 'change', 'noise', 'tolerance'];

/** The comparison for people: every metric's change beside its noise and tolerance, then the checks that changed. */
export function renderComparisonText(c: Comparison, color: boolean): string {
  const style = { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] };
  const t = new Table({ head: HEAD, style });
  t.push(...rows(c));
  const out = [`compared with baseline run ${c.base.runId} (${c.base.startedAt}): ${c.passed ? 'no worse past the tolerances' : 'WORSE than the baseline'}`];
  if (c.workloadDifferences.length > 0) out.push(`note: different workloads, compared with --force: ${c.workloadDifferences.join('; ')}`);
  out.push(t.toString());
  const changed = c.checks.filter((x) => x.base !== x.new);
  if (changed.length > 0) {
    const ct = new Table({ head: ['', 'check', 'baseline', 'this run'], style });
    ct.push(...changed.map((x) => [x.passed ? '✓' : '✗', x.name, x.base ?? 'absent', x.new]));
    out.push(ct.toString());
  } else out.push(`checks: the same as in the baseline (${c.checks.filter((x) => x.new === 'pass').length} passed)`);
  return out.join('\n');
}

function xml(text: string): string {
  return esc(text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ''));
}

/** JUnit: a test case per compared metric and per check. */
export function renderComparisonJunit(c: Comparison): string {
  const cases = comparisonCases(c);
  const failures = c.metrics.filter((m) => !m.passed).length + c.checks.filter((x) => !x.passed).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(`buildflow loadtest compare: ${c.base.runId} → ${c.new.runId}`)}" tests="${cases.length}" failures="${failures}">`,
    `  <testsuite name="loadtest.compare" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** The JUnit test cases of a comparison: one per metric and per check. */
export function comparisonCases(c: Comparison): string[] {
  return [
    ...c.metrics.map((m) => {
      const head = `    <testcase classname="loadtest.compare.metrics" name="${xml(m.metric)}" time="0">`;
      const text = `${formatMetric(m.metric, m.base)} → ${formatMetric(m.metric, m.new)} (${formatChange(m)}, tolerance ${formatTolerance(m)})`;
      return m.passed ? `${head}<system-out>${xml(text)}</system-out></testcase>` : `${head}\n      <failure message="${xml(text)}" type="regression"/>\n    </testcase>`;
    }),
    ...c.checks.map((x) => {
      const head = `    <testcase classname="loadtest.compare.checks" name="${xml(x.name)}" time="0">`;
      return x.passed ? `${head}<system-out>${xml(`${x.base ?? 'absent'} → ${x.new}`)}</system-out></testcase>` : `${head}\n      <failure message="${xml(`passed in the baseline, ${x.new} now`)}" type="regression"/>\n    </testcase>`;
    }),
  ];
}

/** The comparison as an HTML table (a section of a run's report, or a page of its own). */
export function comparisonSection(c: Comparison): string {
  const mark = (ok: boolean) => (ok ? '<span class="ok">✓</span>' : '<span class="fail">✗</span>');
  const body = rows(c)
    .map((r, i) => `<tr>${[c.metrics[i]!.judged ? mark(c.metrics[i]!.passed) : '·', ...r.slice(1).map(esc)].map((x) => `<td>${x}</td>`).join('')}</tr>`)
    .join('');
  const checks = c.checks
    .filter((x) => x.base !== x.new)
    .map((x) => `<tr><td>${mark(x.passed)}</td><td>${esc(x.name)}</td><td>${esc(x.base ?? 'absent')}</td><td>${esc(x.new)}</td></tr>`)
    .join('');
  return `<h2>Against baseline ${esc(c.base.runId)}: ${c.passed ? '<span class="ok">no worse</span>' : '<span class="fail">worse</span>'}</h2>
${c.workloadDifferences.length > 0 ? `<p>Different workloads, compared with --force: ${esc(c.workloadDifferences.join('; '))}</p>` : ''}
<table><tr>${HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${body}</table>
${checks ? `<table><tr><th></th><th>check</th><th>baseline</th><th>this run</th></tr>${checks}</table>` : '<p>Checks: the same as in the baseline.</p>'}`;
}

export function renderComparisonHtml(c: Comparison): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>buildflow loadtest compare: ${c.passed ? 'passed' : 'failed'}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}.ok{color:#2a7a2a}.fail{color:#c22}</style>
</head><body>
<h1>buildflow loadtest compare: ${esc(c.base.runId)} → ${esc(c.new.runId)}</h1>
${comparisonSection(c)}
</body></html>
`;
}
