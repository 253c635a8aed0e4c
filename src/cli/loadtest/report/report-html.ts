import type { LoadtestReport } from './report-schema.js';
import { comparisonSection } from './report-compare.js';
import { describeRun, formatActual, outcomeMix } from './report-text.js';
import { formatMs } from '../units.js';

const W = 640;
const H = 240;
const PAD = { left: 64, right: 12, top: 16, bottom: 40 };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** Index of a last point that stands for a partly covered second: drawn dashed and hollow. */
  partialFrom?: number;
}

/** A round upper bound for an axis, and ticks at round steps up to it. */
function niceTicks(max: number, count = 5): number[] {
  const raw = Math.max(1e-9, max) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const top = Math.max(step, Math.ceil(max / step) * step);
  return Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
}

/** A line chart of series over x, as inline SVG (no script needed to draw it): ticks and units on both axes. */
function lineChart(id: string, title: string, series: Series[], yLabel: (v: number) => string, yUnit: string, xUnit: string): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const xTicks = niceTicks(Math.max(1, ...xs), 8);
  const xMax = xTicks[xTicks.length - 1]!;
  const yTicks = niceTicks(Math.max(...series.flatMap((s) => s.points.map((p) => p[1])), 0));
  const yMax = yTicks[yTicks.length - 1]!;
  const x = (v: number) => PAD.left + (v / xMax) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const yAxis = yTicks
    .map((v) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" class="grid"/><line x1="${PAD.left - 4}" x2="${PAD.left}" y1="${y(v)}" y2="${y(v)}" class="tick"/><text class="axis" x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${esc(yLabel(v))}</text>`)
    .join('');
  const xAxis = xTicks
    .map((v) => `<line x1="${x(v)}" x2="${x(v)}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom + 4}" class="tick"/><text class="axis" x="${x(v)}" y="${H - PAD.bottom + 15}" text-anchor="middle">${esc(String(v))}</text>`)
    .join('');
  const frame = `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" class="tick"/><line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" class="tick"/>`;
  const path = (pts: [number, number][]) => pts.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
  const lines = series
    .map((s) => {
      if (s.points.length === 0) return '';
      const cut = s.partialFrom ?? s.points.length;
      const whole = s.points.slice(0, cut);
      const partial = s.points.slice(Math.max(0, cut - 1));
      return (
        (whole.length > 0 ? `<polyline class="series" fill="none" stroke="${s.color}" stroke-width="2" points="${path(whole)}"><title>${esc(s.name)}</title></polyline>` : '') +
        (cut < s.points.length
          ? `<polyline class="partial" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="4 3" points="${path(partial)}"><title>${esc(`${s.name}: last second only partly run, scaled to a full second`)}</title></polyline><circle cx="${x(s.points[cut]![0]).toFixed(1)}" cy="${y(s.points[cut]![1]).toFixed(1)}" r="3" fill="#fff" stroke="${s.color}"/>`
          : '')
      );
    })
    .join('');
  // Colours set inline: the page's CSS for svg text would otherwise paint every legend entry alike.
  const legend = series
    .map((s, i) => `<g class="legend-entry"><rect x="${PAD.left + 10 + i * 150}" y="${PAD.top - 4}" width="10" height="10" style="fill:${s.color}"/><text class="legend" x="${PAD.left + 24 + i * 150}" y="${PAD.top + 5}" style="fill:${s.color}">${esc(s.name)}</text></g>`)
    .join('');
  const hasPartial = series.some((s) => s.partialFrom !== undefined && s.partialFrom < s.points.length);
  const note = hasPartial ? `<text class="axis" x="${W - PAD.right}" y="${PAD.top + 5}" text-anchor="end">dashed: last second, partly run</text>` : '';
  const units = `<text class="axis" x="${(W + PAD.left) / 2}" y="${H - 4}" text-anchor="middle">${esc(xUnit)}</text><text class="axis" transform="translate(12 ${(H - PAD.bottom + PAD.top) / 2}) rotate(-90)" text-anchor="middle">${esc(yUnit)}</text>`;
  return figure(id, title, `${yAxis}${xAxis}${frame}${lines}${legend}${note}${units}`);
}

function barChart(id: string, title: string, bins: { fromMs: number; toMs: number; count: number }[]): string {
  if (bins.length === 0) return figure(id, title, `<text class="axis" x="${W / 2}" y="${H / 2}" text-anchor="middle">no orders reached a final state</text>`);
  const yTicks = niceTicks(Math.max(...bins.map((b) => b.count)), 4).map(Math.round);
  const yMax = yTicks[yTicks.length - 1]!;
  const width = (W - PAD.left - PAD.right) / bins.length;
  const y = (v: number) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const bars = bins
    .map((b, i) => `<rect class="bar" x="${(PAD.left + i * width + 1).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${Math.max(1, width - 2).toFixed(1)}" height="${(H - PAD.bottom - y(b.count)).toFixed(1)}"><title>${esc(`${formatMs(b.fromMs)} – ${formatMs(b.toMs)}: ${b.count} orders`)}</title></rect>`)
    .join('');
  const axis = yTicks.map((v) => `<line x1="${PAD.left - 4}" x2="${PAD.left}" y1="${y(v)}" y2="${y(v)}" class="tick"/><text class="axis" x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`).join('');
  const xTicks = [0, Math.floor(bins.length / 4), Math.floor(bins.length / 2), Math.floor((3 * bins.length) / 4), bins.length]
    .map((i) => {
      const at = PAD.left + i * width;
      const ms = i < bins.length ? bins[i]!.fromMs : bins[bins.length - 1]!.toMs;
      return `<line x1="${at}" x2="${at}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom + 4}" class="tick"/><text class="axis" x="${at}" y="${H - PAD.bottom + 15}" text-anchor="middle">${esc(formatMs(ms))}</text>`;
    })
    .join('');
  const frame = `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" class="tick"/><line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" class="tick"/>`;
  const units = `<text class="axis" x="${(W + PAD.left) / 2}" y="${H - 4}" text-anchor="middle">placed → final (time)</text><text class="axis" transform="translate(12 ${(H - PAD.bottom + PAD.top) / 2}) rotate(-90)" text-anchor="middle">orders</text>`;
  return figure(id, title, `${axis}${xTicks}${frame}${bars}${units}`);
}

function figure(id: string, title: string, body: string): string {
  return `<figure><figcaption>${esc(title)}</figcaption><svg id="${id}" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${body}</svg></figure>`;
}

/** One self-contained HTML page: summary, checks, thresholds, and charts drawn as inline SVG (no external assets). */
export function renderHtml(r: LoadtestReport): string {
  const t = r.timeline;
  // A last second the run covered only in part is scaled to a full second, and drawn dashed so a short tail never looks like a collapse.
  const partialFrom = t.length > 0 && t[t.length - 1]!.spanMs < 1000 ? t.length - 1 : undefined;
  const withPartial = (s: Series): Series => (partialFrom === undefined ? s : { ...s, partialFrom });
  const throughput = lineChart(
    'throughput',
    'Throughput over time',
    [
      withPartial({ name: 'all requests', color: '#1f77b4', points: t.map((p) => [p.second, (p.requests * 1000) / p.spanMs]) }),
      withPartial({ name: 'order intake', color: '#ff7f0e', points: t.map((p) => [p.second, (p.intake * 1000) / p.spanMs]) }),
      withPartial({ name: 'errors', color: '#d62728', points: t.map((p) => [p.second, (p.errors * 1000) / p.spanMs]) }),
    ],
    (v) => String(Math.round(v)),
    'requests per second',
    'second of the run (s)',
  );
  const latency = lineChart(
    'latency',
    'Intake latency over time',
    [
      withPartial({ name: 'p50', color: '#2ca02c', points: t.filter((p) => p.intakeP50 !== null).map((p) => [p.second, p.intakeP50!]) }),
      withPartial({ name: 'p99', color: '#9467bd', points: t.filter((p) => p.intakeP99 !== null).map((p) => [p.second, p.intakeP99!]) }),
    ],
    (v) => formatMs(v),
    'latency (ms)',
    'second of the run (s)',
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
  const thresholds = rows(r.thresholds.map((x) => [mark(x.passed), esc(x.expression), esc(x.actual === null ? 'no value' : formatActual(x.metric, x.actual))]));
  const summary = rows([
    ['intake', esc(`${r.intake.rps.toFixed(1)} req/s; p50 ${formatMs(r.intake.p50 ?? undefined)}, p90 ${formatMs(r.intake.p90 ?? undefined)}, p99 ${formatMs(r.intake.p99 ?? undefined)}, max ${formatMs(r.intake.max ?? undefined)}`)],
    ['orders ended', esc(outcomeMix(r).replace(/^orders ended: /, ''))],
    ['reads', esc(r.reads.count === 0 ? 'none' : `${r.reads.rps.toFixed(1)} req/s; p50 ${formatMs(r.reads.p50 ?? undefined)}, p99 ${formatMs(r.reads.p99 ?? undefined)}`)],
    ['errors', esc(`${r.errors.count} requests (${(r.errors.rate * 100).toFixed(2)}% of ${r.requests.count})`)],
    ['placed → final', esc(`p50 ${formatMs(r.e2e.p50 ?? undefined)}, p99 ${formatMs(r.e2e.p99 ?? undefined)} (${r.e2e.count} orders)`)],
    ['generator', esc(`thread busy ${(r.generator.busy * 100).toFixed(0)}% of its time; loadtest process CPU ${(r.generator.processCpu * 100).toFixed(0)}% of a core`)],
  ]);
  const o = r.outcomes;
  const share = (n: number) => (o.accepted === 0 ? '–' : `${((n / o.accepted) * 100).toFixed(1)}%`);
  const outcomes = rows([
    ['confirmed', String(o.confirmed), share(o.confirmed)],
    ...Object.entries(o.cancelled).sort((a, b) => b[1] - a[1]).map(([k, v]) => [esc(`cancelled: ${k}`), String(v), share(v)]),
    ...(o.notFinal > 0 ? [['not final', String(o.notFinal), share(o.notFinal)]] : []),
    ['<b>accepted</b>', `<b>${o.accepted}</b>`, o.accepted === 0 ? '–' : '100%'],
  ]);
  const stages =
    r.stages && r.stages.length > 0
      ? `<h2>Stages</h2><table><tr><th>stage</th><th>rate (ops/s)</th><th>due</th><th>sent</th><th>late</th><th>errors</th><th>intake (req/s)</th><th>intake p50</th><th>intake p99</th></tr>${rows(
          r.stages.map((g) => [
            esc(`${g.index + 1}: ${(g.startMs / 1000).toFixed(1)}–${((g.startMs + g.durationMs) / 1000).toFixed(1)} s`),
            esc(`${g.fromRate} → ${g.toRate}`),
            String(g.due),
            String(g.scheduled),
            String(g.late),
            String(g.errors),
            g.intake.rps.toFixed(1),
            esc(formatMs(g.intake.p50 ?? undefined)),
            esc(formatMs(g.intake.p99 ?? undefined)),
          ]),
        )}</table>`
      : '';
  const knee = r.knee
    ? `<p><b>Knee:</b> ${esc(r.knee.found ? `held up to ${r.knee.heldRate.toFixed(0)} ops/s; ${r.knee.thresholds.join(', ')} broke for good from second ${r.knee.brokenFromSecond}` : `no knee: every threshold held up to ${r.knee.heldRate.toFixed(0)} ops/s, the top of the ramp`)}</p>`
    : '';
  const aborted = r.run.aborted ? `<p class="fail">Load stopped at second ${r.run.aborted.atSecond}: ${esc(r.run.aborted.thresholds.join(', '))} broken every second since ${r.run.aborted.fromSecond}.</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>buildflow loadtest ${esc(r.run.runId)}: ${r.passed ? 'passed' : 'failed'}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}table{border-collapse:collapse;margin:12px 0}
td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}.ok{color:#2a7a2a}.fail{color:#c22}.skip{color:#888}
figure{margin:16px 0}figcaption{font-weight:600}svg.chart{border:1px solid #eee;background:#fff}svg text{font-size:11px}
svg text.axis{fill:#555}.grid{stroke:#eee}.tick{stroke:#999}.bar{fill:#1f77b4}
</style></head><body>
<h1>buildflow loadtest: ${r.passed ? '<span class="ok">passed</span>' : '<span class="fail">failed</span>'} (exit ${r.exitCode})</h1>
<p>${esc(describeRun(r))}; ${esc(r.run.startedAt)} – ${esc(r.run.endedAt)}</p>
${aborted}${knee}
<table>${summary}</table>
<h2>Outcomes of accepted orders</h2><table><tr><th>outcome</th><th>orders</th><th>share</th></tr>${outcomes}</table>
<h2>Checks</h2><table>${checks}</table>
${r.thresholds.length > 0 ? `<h2>Thresholds</h2><table><tr><th></th><th>threshold</th><th>actual</th></tr>${thresholds}</table>` : ''}
${stages}
${r.comparison ? comparisonSection(r.comparison) : ''}
<h2>Charts</h2>
${throughput}${latency}${e2e}
<script>
// Marks the page with how many charts laid out with a size, so a headless browser can tell drawn from broken.
const drawn = [...document.querySelectorAll('svg.chart')].filter((s) => { const b = s.getBBox(); return b.width > 0 && b.height > 0; });
document.body.dataset.chartsDrawn = String(drawn.length);
// And the colour each legend entry is painted in, so a test can tell the series apart as a reader would.
document.body.dataset.legendColors = [...document.querySelectorAll('svg.chart text.legend')].map((e) => getComputedStyle(e).fill).join(';');
</script>
</body></html>
`;
}
