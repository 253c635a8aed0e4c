import type { LoadtestReport } from './report-schema.js';
import { comparisonCases } from './report-compare.js';
import { describeRun } from './report-text.js';

function xml(text: string): string {
  // Control characters other than tab and newlines are not allowed in XML 1.0 at all.
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** JUnit XML: one suite for the checks and one for the thresholds, a test case each (skipped checks as skipped). */
export function renderJunit(r: LoadtestReport): string {
  const seconds = (r.run.measuredMs / 1000).toFixed(3);
  const checks = r.checks.map((c) => {
    const head = `    <testcase classname="loadtest.checks" name="${xml(c.name)}" time="0">`;
    if (c.status === 'pass') return `${head}<system-out>${xml(c.detail)}</system-out></testcase>`;
    if (c.status === 'skip') return `${head}<skipped message="${xml(c.detail)}"/></testcase>`;
    const evidence = [c.first && `first: ${c.first.message}`, c.worst && `worst: ${c.worst.message}`, c.last && `last: ${c.last.message}`, c.samples.length > 0 && `samples: ${c.samples.join(', ')}`]
      .filter(Boolean)
      .join('\n');
    return `${head}\n      <failure message="${xml(c.detail)}" type="check">${xml(evidence)}</failure>\n    </testcase>`;
  });
  const thresholds = r.thresholds.map((t) => {
    const head = `    <testcase classname="loadtest.thresholds" name="${xml(t.expression)}" time="0">`;
    const actual = t.actual === null ? 'no value' : String(t.actual);
    if (t.passed) return `${head}<system-out>${xml(`${t.metric} = ${actual}`)}</system-out></testcase>`;
    return `${head}\n      <failure message="${xml(`${t.metric} = ${actual}, wanted ${t.op} ${t.limit}`)}" type="threshold"/>\n    </testcase>`;
  });
  const suite = (name: string, cases: string[], failures: number, skipped: number) =>
    `  <testsuite name="${name}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}" timestamp="${r.run.startedAt}">\n${cases.join('\n')}\n  </testsuite>`;
  const c = r.comparison;
  const compared = c ? comparisonCases(c) : [];
  const comparedFailures = c ? c.metrics.filter((m) => !m.passed).length + c.checks.filter((x) => !x.passed).length : 0;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(`buildflow loadtest: ${describeRun(r)}`)}" tests="${checks.length + thresholds.length + compared.length}" failures="${r.checks.filter((c) => c.status === 'fail').length + r.thresholds.filter((t) => !t.passed).length + comparedFailures}">`,
    suite('loadtest.checks', checks, r.checks.filter((c) => c.status === 'fail').length, r.checks.filter((c) => c.status === 'skip').length),
    suite('loadtest.thresholds', thresholds, r.thresholds.filter((t) => !t.passed).length, 0),
    ...(c ? [suite('loadtest.compare', compared, comparedFailures, 0)] : []),
    '</testsuites>',
    '',
  ].join('\n');
}
