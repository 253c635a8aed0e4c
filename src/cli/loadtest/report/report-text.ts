import Table from 'cli-table3';
import type { LoadtestReport } from './report-schema.js';
import { renderComparisonText } from './report-compare.js';
import { formatMs } from '../units.js';

function table(head: string[] | undefined, rows: string[][], color: boolean): string {
  const t = new Table({ ...(head ? { head } : {}), style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] } });
  t.push(...rows);
  return t.toString();
}

function mark(passed: boolean | 'skip', color: boolean): string {
  const [sym, code] = passed === 'skip' ? ['–', '90'] : passed ? ['✓', '32'] : ['✗', '31'];
  return color ? `\u001b[${code}m${sym}\u001b[0m` : sym;
}

function lat(l: { p50: number | null; p90: number | null; p99: number | null; max: number | null }): string {
  return `p50 ${formatMs(l.p50 ?? undefined)} · p90 ${formatMs(l.p90 ?? undefined)} · p99 ${formatMs(l.p99 ?? undefined)} · max ${formatMs(l.max ?? undefined)}`;
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k}: ${v}`).join(', ');
}

/** Which load model ran, against what, in one line. */
export function describeRun(r: LoadtestReport): string {
  const stages = r.run.stages?.map((g) => `${g.toRate} ops/s over ${g.durationMs / 1000} s`).join(', then ');
  const model = stages ? `open loop ramping to ${stages} (≤ ${r.run.connections} in flight)` : r.run.model === 'open' ? `open loop at ${r.run.rate} ops/s (≤ ${r.run.connections} in flight, latency from each request's scheduled time)` : `closed loop, ${r.run.connections} connections`;
  const length = stages ? `${r.run.stages!.reduce((t, g) => t + g.durationMs, 0) / 1000} s` : r.run.durationMs !== null ? `${r.run.durationMs / 1000} s` : `${r.run.orders} orders`;
  const warmup = r.run.warmupMs > 0 ? ` after ${r.run.warmupMs / 1000} s warm-up` : '';
  const t = r.run.target;
  const target = t.kind === 'url' ? t.urls.join(', ') : `${t.kind} started by loadtest (${t.servers} serve, ${t.workers === 0 ? 'workers in serve' : `${t.workers} worker`})`;
  return `${model}, ${length}${warmup}, seed ${r.run.seed}, against ${target}`;
}

/** The report for people: a summary table, then each threshold and check with ✓/✗ and the evidence of each failure. */
export function renderText(r: LoadtestReport, color: boolean): string {
  const out: string[] = [`buildflow loadtest: ${describeRun(r)}`];
  const cancelled = Object.values(r.outcomes.cancelled).reduce((a, b) => a + b, 0);
  const rows: string[][] = [
    ['intake', `${r.intake.rps.toFixed(1)} req/s (${r.intake.count} requests) · ${outcomeMix(r)}`],
    ['intake latency', lat(r.intake)],
    ['reads', r.reads.count === 0 ? 'none' : `${r.reads.rps.toFixed(1)} req/s · ${lat(r.reads)}`],
    ['errors', `${r.errors.count} (${(r.errors.rate * 100).toFixed(2)}%) · 503: ${r.errors.unavailable} · no answer: ${r.errors.network}`],
    ['by status', counts(r.errors.byStatus)],
    ['by code', counts(r.errors.byCode)],
    ['placed → final', `p50 ${formatMs(r.e2e.p50 ?? undefined)} · p99 ${formatMs(r.e2e.p99 ?? undefined)} (${r.e2e.count} orders)`],
    ['outcomes', `${r.outcomes.accepted} accepted · ${r.outcomes.confirmed} confirmed · ${cancelled} cancelled (${counts(r.outcomes.cancelled)})${r.outcomes.notFinal > 0 ? ` · ${r.outcomes.notFinal} not final` : ''}`],
  ];
  if (r.openLoop) rows.push(['open loop', `${r.openLoop.late} late (sent > 10 ms after due) · ${r.openLoop.dropped} dropped`]);
  if (r.run.chaos.length > 0) rows.push(['chaos', r.run.chaos.map((c) => `${c.kind}: ${c.detail}`).join('\n')]);
  rows.push(['settle', `${r.run.settle.settled ? 'settled' : 'NOT settled'} after ${(r.run.settle.waitedMs / 1000).toFixed(1)} s`]);
  rows.push(['generator', `thread busy ${(r.generator.busy * 100).toFixed(0)}% · loadtest process CPU ${(r.generator.processCpu * 100).toFixed(0)}% of a core`]);
  if (r.run.aborted) rows.push(['aborted', `load stopped at second ${r.run.aborted.atSecond}: ${r.run.aborted.thresholds.join(', ')} broken every second since ${r.run.aborted.fromSecond}`]);
  if (r.knee) {
    rows.push([
      'knee',
      r.knee.found
        ? `held up to ${r.knee.heldRate.toFixed(0)} ops/s; ${r.knee.thresholds.join(', ')} broke for good from second ${r.knee.brokenFromSecond} (thresholds judged on the part that held)`
        : `no knee: every threshold held up to ${r.knee.heldRate.toFixed(0)} ops/s, the top of the ramp`,
    ]);
  }
  out.push(table(undefined, rows, color));
  if (r.stages && r.stages.length > 0) {
    out.push(
      table(
        ['stage', 'rate (ops/s)', 'due', 'sent', 'late', 'errors', 'intake req/s', 'intake p50', 'intake p99'],
        r.stages.map((g) => [
          `${g.index + 1}: ${(g.startMs / 1000).toFixed(1)}–${((g.startMs + g.durationMs) / 1000).toFixed(1)} s`,
          `${g.fromRate} → ${g.toRate}`,
          String(g.due),
          String(g.scheduled),
          String(g.late),
          String(g.errors),
          g.intake.rps.toFixed(1),
          formatMs(g.intake.p50 ?? undefined),
          formatMs(g.intake.p99 ?? undefined),
        ]),
        color,
      ),
    );
  }
  if (r.thresholds.length > 0) {
    out.push(
      table(
        ['', 'threshold', 'actual'],
        r.thresholds.map((t) => [mark(t.passed, color), t.expression, t.actual === null ? 'no value' : formatActual(t.metric, t.actual)]),
        color,
      ),
    );
  }
  out.push(table(['', 'check', 'evidence'], r.checks.map((c) => [mark(c.status === 'skip' ? 'skip' : c.status === 'pass', color), c.name, evidence(c)]), color));
  if (r.comparison) out.push(renderComparisonText(r.comparison, color));
  return out.join('\n');
}

/** What the accepted orders became, as shares: "750 req/s" means little if half were cancelled out of stock at once. */
export function outcomeMix(r: LoadtestReport): string {
  const o = r.outcomes;
  if (o.accepted === 0) return 'no order accepted';
  const pct = (n: number) => `${((n / o.accepted) * 100).toFixed(1)}%`;
  const parts = [`${pct(o.confirmed)} confirmed`, ...Object.entries(o.cancelled).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${pct(v)} ${k}`)];
  if (o.notFinal > 0) parts.push(`${pct(o.notFinal)} not final`);
  return `orders ended: ${parts.join(', ')}`;
}

function evidence(c: LoadtestReport['checks'][number]): string {
  if (c.status !== 'fail') return c.detail;
  const lines = [c.detail];
  if (c.first) lines.push(`first: ${c.first.message}`);
  if (c.worst && c.worst !== c.first) lines.push(`worst: ${c.worst.message}`);
  if (c.last && c.count > 1) lines.push(`last: ${c.last.message}`);
  if (c.samples.length > 0) lines.push(`samples: ${c.samples.join(', ')}`);
  return lines.join('\n');
}

/** A threshold's actual value in its unit. */
export function formatActual(metric: string, v: number): string {
  if (/\.(p\d+|max|mean)$/.test(metric)) return formatMs(v);
  if (metric.endsWith('.rate') || metric === 'generator.busy') return `${(v * 100).toFixed(3)}%`;
  if (metric.endsWith('.rps')) return `${v.toFixed(1)} req/s`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
