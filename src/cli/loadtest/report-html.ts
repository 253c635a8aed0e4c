import type { LoadtestReport } from './report-schema.js';
import { describeRun } from './report-text.js';
import { formatMs } from './units.js';

const W = 640;
const H = 220;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

function axisMax(values: number[]): number {
  const max = Math.max(1e-9, ...values);
  const magnitude = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / magnitude) * magnitude;
}

/** A line chart of series over x, as inline SVG (no script needed to draw it). */
function lineChart(id: string, title: string, series: Series[], yLabel: (v: number) => string, xLabel: string): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const xMax = Math.max(1, ...xs);
  const yMax = axisMax(series.flatMap((s) => s.points.map((p) => p[1])));
  const x = (v: number) => PAD.left + (v / xMax) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(yMax * f)}" y2="${y(yMax * f)}" class="grid"/><text x="${PAD.left - 6}" y="${y(yMax * f) + 4}" text-anchor="end">${esc(yLabel(yMax * f))}</text>`)
    .join('');
  const lines = series
    .map((s) => (s.points.length === 0 ? '' : `<polyline class="series" fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`))
    .join('');
  const legend = series.map((s, i) => `<text x="${PAD.left + 10 + i * 150}" y="${PAD.top + 4}" fill="${s.color}">■ ${esc(s.name)}</text>`).join('');
  return figure(id, title, `${grid}${lines}${legend}<text x="${(W + PAD.left) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)} (0 – ${xMax})</text>`);
}

function barChart(id: string, title: string, bins: { fromMs: number; toMs: number; count: number }[]): string {
  if (bins.length === 0) return figure(id, title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no orders reached a final state</text>`);
  const yMax = axisMax(bins.map((b) => b.count));
  const width = (W - PAD.left - PAD.right) / bins.length;
  const y = (v: number) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const bars = bins
    .map((b, i) => `<rect class="bar" x="${(PAD.left + i * width + 1).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${Math.max(1, width - 2).toFixed(1)}" height="${(H - PAD.bottom - y(b.count)).toFixed(1)}"><title>${esc(`${formatMs(b.fromMs)} – ${formatMs(b.toMs)}: ${b.count}`)}</title></rect>`)
    .join('');
  const axis = [0, 0.5, 1].map((f) => `<text x="${PAD.left - 6}" y="${y(yMax * f) + 4}" text-anchor="end">${Math.round(yMax * f)}</text>`).join('');
  const last = bins[bins.length - 1]!;
  return figure(id, title, `${axis}${bars}<text x="${PAD.left}" y="${H - 6}">0</text><text x="${W - PAD.right}" y="${H - 6}" text-anchor="end">${esc(formatMs(last.toMs))}</text>`);
}

function figure(id: string, title: string, body: string): string {
  return `<figure><figcaption>${esc(title)}</figcaption><svg id="${id}" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${body}</svg></figure>`;
}

/** One self-contained HTML page: summary, checks, thresholds, and charts drawn as inline SVG (no external assets). */
export function renderHtml(r: LoadtestReport): string {
  const t = r.timeline;
  const throughput = lineChart(
    'throughput',
    'Throughput over time (requests per second)',
    [
      // Per second of the run, scaled for a last second the run only partly covered.
      { name: 'all requests', color: '#4c78a8', points: t.map((p) => [p.second, (p.requests * 1000) / p.spanMs]) },
      { name: 'order intake', color: '#f58518', points: t.map((p) => [p.second, (p.intake * 1000) / p.spanMs]) },
      { name: 'errors', color: '#e45756', points: t.map((p) => [p.second, (p.errors * 1000) / p.spanMs]) },
    ],
    (v) => String(Math.round(v)),
    'second of the run',
  );
  const latency = lineChart(
    'latency',
    'Intake latency over time',
    [
      { name: 'p50', color: '#54a24b', points: t.filter((p) => p.intakeP50 !== null).map((p) => [p.second, p.intakeP50!]) },
      { name: 'p99', color: '#b279a2', points: t.filter((p) => p.intakeP99 !== null).map((p) => [p.second, p.intakeP99!]) },
    ],
    (v) => formatMs(v),
    'second of the run',
  );
  const e2e = barChart('e2e', 'Placed → final latency (orders)', r.e2e.histogram);
  const rows = (cells: string[][]) => cells.map((c) => `<tr>${c.map((x) => `<td>${x}</td>`).join('')}</tr>`).join('');
  const mark = (ok: boolean | 'skip') => (ok === 'skip' ? '<span class="skip">–</span>' : ok ? '<span class="ok">✓</span>' : '<span class="fail">✗</span>');
  const checks = rows(
    r.checks.map((c) => [
      mark(c.status === 'skip' ? 'skip' : c.status === 'pass'),
      esc(c.name),
      esc(c.detail) + (c.status === 'fail' ? `<ul>${[c.first && `first: ${c.first.message}`, c.worst && `worst: ${c.worst.message}`, c.last && `last: ${c.last.message}`].filter(Boolean).map((l) => `<li>${esc(String(l))}</li>`).join('')}</ul>` : ''),
    ]),
  );
  const thresholds = rows(r.thresholds.map((x) => [mark(x.passed), esc(x.expression), esc(x.actual === null ? 'no value' : String(Number(x.actual.toFixed(4))))]));
  const summary = rows([
    ['intake', esc(`${r.intake.rps.toFixed(1)} req/s; p50 ${formatMs(r.intake.p50 ?? undefined)}, p90 ${formatMs(r.intake.p90 ?? undefined)}, p99 ${formatMs(r.intake.p99 ?? undefined)}, max ${formatMs(r.intake.max ?? undefined)}`)],
    ['errors', esc(`${r.errors.count} (${(r.errors.rate * 100).toFixed(2)}%)`)],
    ['placed → final', esc(`p50 ${formatMs(r.e2e.p50 ?? undefined)}, p99 ${formatMs(r.e2e.p99 ?? undefined)}`)],
    ['outcomes', esc(`${r.outcomes.accepted} accepted, ${r.outcomes.confirmed} confirmed, cancelled ${JSON.stringify(r.outcomes.cancelled)}`)],
    ['generator', esc(`thread busy ${(r.generator.busy * 100).toFixed(0)}%`)],
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>buildflow loadtest ${esc(r.run.runId)}: ${r.passed ? 'passed' : 'failed'}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}table{border-collapse:collapse;margin:12px 0}
td{border:1px solid #ddd;padding:4px 8px;vertical-align:top}.ok{color:#2a7a2a}.fail{color:#c22}.skip{color:#888}
figure{margin:16px 0}figcaption{font-weight:600}svg.chart{border:1px solid #eee;background:#fff}svg text{font-size:11px;fill:#555}
.grid{stroke:#eee}.bar{fill:#4c78a8}
</style></head><body>
<h1>buildflow loadtest: ${r.passed ? '<span class="ok">passed</span>' : '<span class="fail">failed</span>'} (exit ${r.exitCode})</h1>
<p>${esc(describeRun(r))}; ${esc(r.run.startedAt)} – ${esc(r.run.endedAt)}</p>
<table>${summary}</table>
<h2>Checks</h2><table>${checks}</table>
${r.thresholds.length > 0 ? `<h2>Thresholds</h2><table>${thresholds}</table>` : ''}
<h2>Charts</h2>
${throughput}${latency}${e2e}
<script>
// Marks the page with how many charts laid out with a size, so a headless browser can tell drawn from broken.
const drawn = [...document.querySelectorAll('svg.chart')].filter((s) => { const b = s.getBBox(); return b.width > 0 && b.height > 0; });
document.body.dataset.chartsDrawn = String(drawn.length);
</script>
</body></html>
`;
}
