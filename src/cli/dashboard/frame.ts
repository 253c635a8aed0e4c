import { CANCEL_REASONS, ORDER_STATUSES } from '../../core/domain/order-status.js';
import type { StatsSnapshot } from '../../core/stats/snapshot-types.js';
import { alertsOf, type DashboardData, type RatePoint } from './dashboard-model.js';
import { age, bar, capped, cents, count, duration, fit, sparkline } from './format.js';

/** A run of text with one style; colours are dropped when colour is off. */
export interface Segment {
  text: string;
  color?: 'red' | 'yellow' | 'green' | 'cyan' | 'blue' | 'magenta' | 'gray';
  bold?: boolean;
  inverse?: boolean;
}
export type Line = Segment[];

export type Tab = 'orders' | 'dead-letters';

/** One entry of an order's history, as `GET /v1/orders/{id}/history` lists it. */
export interface HistoryItem {
  from: string | null;
  to: string;
  reason?: string;
  at: string;
}

export interface FrameInput {
  data: DashboardData;
  now: number;
  width: number;
  height: number;
  url: string;
  /** Plain snapshot for a pipe or --once: no key hints, no sparklines, every table row. */
  plain?: boolean;
  paused?: boolean;
  help?: boolean;
  tab?: Tab;
  /** Index of the selected row of the table. */
  selected?: number;
  /** The order whose history is shown instead of the table. */
  detail?: { reference: string; items: HistoryItem[] | null; error?: string } | null;
  /** A question or answer of the step pause key (s), shown in place of the key hints. */
  prompt?: string | null;
}

/** The smallest terminal the live layout is drawn for. */
export const MIN_WIDTH = 80;
export const MIN_HEIGHT = 24;

const t = (text: string, style: Omit<Segment, 'text'> = {}): Segment => ({ text, ...style });

/** Total characters of a line. */
export function lineLength(line: Line): number {
  return line.reduce((n, s) => n + [...s.text].length, 0);
}

/** Cuts a line to `width` characters (the last kept character becomes …). */
function clip(line: Line, width: number): Line {
  if (lineLength(line) <= width) return line;
  const out: Line = [];
  let left = width;
  for (const s of line) {
    if (left <= 0) break;
    const chars = [...s.text];
    if (chars.length <= left) {
      out.push(s);
      left -= chars.length;
    } else {
      out.push({ ...s, text: fit(s.text, left) });
      left = 0;
    }
  }
  return out;
}

/**
 * The dashboard as lines: at most `height - 1` of them (Ink clears the scrollback when its live
 * area reaches the terminal's height) and none wider than `width`. Below 80×24 it is one line
 * saying so. Pure: the same input gives the same frame, so frames can be compared as text.
 */
export function buildFrame(input: FrameInput): Line[] {
  const { width, plain } = input;
  if (!plain && (width < MIN_WIDTH || input.height < MIN_HEIGHT)) {
    return [[t(fit(`terminal too small (${width}×${input.height}): buildflow dashboard needs ${MIN_WIDTH}×${MIN_HEIGHT}`, Math.max(1, width)), { color: 'yellow' })]];
  }
  const budget = plain ? Number.POSITIVE_INFINITY : input.height - 1;
  const s = input.data.snapshot;
  const lines: Line[] = [header(input), alertLine(input)];
  if (!s) {
    lines.push([t(input.data.error ? 'no data yet: the server did not answer' : 'waiting for the first snapshot…', { color: 'gray' })]);
    return lines.slice(0, budget).map((l) => clip(l, width));
  }
  lines.push(...pipeline(s, width), ...orders(s), ...rates(input, s), stockLine(s), moneyLine(s));
  if (plain) lines.push(...workers(s));
  const rest = budget - lines.length;
  lines.push(...lower(input, s, rest));
  return lines.slice(0, budget).map((l) => clip(l, width));
}

/** The frame as text, without styles: plain output and golden files. */
export function frameText(lines: Line[]): string {
  return lines.map((l) => l.map((s) => s.text).join('').trimEnd()).join('\n');
}

function header(input: FrameInput): Line {
  const s = input.data.snapshot;
  const parts: Line = [t('buildflow', { bold: true })];
  if (input.paused) parts.push(t(' PAUSED', { color: 'yellow', bold: true }));
  if (s) {
    const alive = s.workers.filter((w) => w.state === 'alive').length;
    const gone = s.workers.length - alive;
    parts.push(t(` · ${s.deployment.cell} v${s.deployment.version} · workers ${alive} alive`), t(gone > 0 ? ` ${gone} gone` : '', { color: 'red' }));
  }
  if (input.plain && s) parts.push(t(` · at ${s.generatedAt}`));
  else if (input.data.receivedAt !== null) parts.push(t(` · updated ${age(input.now - input.data.receivedAt)} ago`));
  parts.push(t(` · ${input.url}`, { color: 'gray' }));
  if (s) parts.push(t(` · server up ${age(s.deployment.uptimeMs)}`, { color: 'gray' }));
  return parts;
}

function alertLine(input: FrameInput): Line {
  const alerts = alertsOf(input.data, input.now);
  if (alerts.length === 0) return [t('✓ no alerts', { color: 'green' })];
  const first = alerts[0]!;
  const more = alerts.length > 1 ? ` (+${alerts.length - 1} more: ${alerts.slice(1).map((a) => a.short).join('; ')})` : '';
  return [t(`! ${first.text}`, { color: first.level === 'error' ? 'red' : 'yellow', bold: true }), t(more, { color: 'yellow' })];
}

function pipeline(s: StatsSnapshot, width: number): Line[] {
  const generatedAt = s.generatedAt;
  const redis = s.deployment.transport === 'redis';
  // The columns before the bar take 57 characters (71 with Redis's column), and two of space.
  // One bee-queue queue carries every step in batches, so its jobs are one figure in the header.
  const barWidth = Math.max(5, width - 59 - (redis ? 14 : 0));
  const scale = Math.max(1, ...s.topics.map((x) => x.waiting + x.active + x.delayed + x.dead));
  const head: Line = [
    t(`${fit('step', 8)}${fit('waiting', 8, 'right')}${fit('active', 7, 'right')}${fit('delayed', 8, 'right')}${fit('dead', 6, 'right')}${fit('oldest', 8, 'right')}${fit('ok/fail', 12, 'right')}${redis ? fit(s.queue ? `jobs ${count(s.queue.waiting)}/${count(s.queue.active)}/${count(s.queue.delayed)}` : 'jobs –', 14, 'right') : ''}  `, { bold: true }),
    t(barWidth >= 31 ? '■waiting ▶active ·delayed ✗dead' : barWidth >= 21 ? '■wait ▶act ·dly ✗dead' : '■▶·✗', { color: 'gray' }),
  ];
  return [
    head,
    ...s.topics.map((x): Line => {
      const ge = x.capped ? '≥' : '';
      const [w, a, d, dd] = bar(
        [
          { value: x.waiting, char: '■' },
          { value: x.active, char: '▶' },
          { value: x.delayed, char: '·' },
          { value: x.dead, char: '✗' },
        ],
        scale,
        barWidth,
      );
      const nums = `${fit(x.topic, 8)}${fit(count(x.waiting), 8, 'right')}${fit(ge + count(x.active), 7, 'right')}${fit(ge + count(x.delayed), 8, 'right')}${fit(count(x.dead), 6, 'right')}${fit(age(x.oldestWaitingMs), 8, 'right')}${fit(`${count(x.succeeded)}/${count(x.failed)}`, 12, 'right')}`;
      const queue = redis ? fit('', 14) : '';
      if (x.paused) {
        // A paused step says so where its bar would be: what waits at it is held there on purpose.
        const since = age(Math.max(0, Date.parse(generatedAt) - Date.parse(x.paused.since)));
        // The row's empty queue column (one queue carries every step) gives the words room at 80 columns.
        return [t(nums), t('  '), t(fit(`PAUSED ${since}${x.paused.reason ? `: ${x.paused.reason}` : ''}`, barWidth + queue.length), { color: 'yellow', bold: true })];
      }
      return [t(nums), t(queue, { color: 'magenta' }), t('  '), t(w!, { color: 'cyan' }), t(a!, { color: 'green' }), t(d!, { color: 'gray' }), t(dd!, { color: 'red' })];
    }),
  ];
}

function orders(s: StatsSnapshot): Line[] {
  const by = s.orders.byStatus;
  const c = s.counters;
  const list = (statuses: readonly (keyof typeof by)[]) => statuses.map((st) => `${st} ${count(by[st])}`).join(' · ');
  const reasons = CANCEL_REASONS.filter((r) => s.orders.cancelledByReason[r] > 0).map((r) => `${r} ${count(s.orders.cancelledByReason[r])}`);
  return [
    [t('orders  ', { bold: true }), t(list(['pending', 'reserved', 'paid', 'confirmed']))],
    [
      t(`        ${list(['shipped', 'delivered'])} · `),
      t(`cancelled ${count(by.cancelled)}${reasons.length > 0 ? `: ${reasons.join(' · ')}` : ''}`, { color: by.cancelled > 0 ? 'yellow' : undefined }),
    ],
    [
      t('funnel  ', { bold: true }),
      // Cumulative: orders that ever reached each stage, so a later cancellation takes none away.
      t(`placed ${count(c.ordersPlaced)} → reserved ${count(c.ordersReserved)} → paid ${count(c.ordersPaid)} → confirmed ${count(c.ordersConfirmed)}`),
    ],
  ];
}

function rate(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : n >= 100 ? String(Math.round(n)) : n.toFixed(1);
}

function rates(input: FrameInput, s: StatsSnapshot): Line[] {
  const lat = s.latency;
  // At the sample cap the figures are of the newest orders of the window, not of all of them.
  const over = lat.samplesCapped ? `newest ${lat.samples} of last ${age(lat.windowMs)}` : `${lat.samples} orders, last ${age(lat.windowMs)}`;
  const latency = `placed → confirmed p50 ${duration(lat.p50Ms)} p95 ${duration(lat.p95Ms)} p99 ${duration(lat.p99Ms)} (${over})`;
  if (input.plain) {
    const r = s.rates;
    return [[t('rates   ', { bold: true }), t(`placed ${rate(r?.placed['10s'])}/s · confirmed ${rate(r?.confirmed['10s'])}/s · cancelled ${rate(r?.cancelled['10s'])}/s (10 s) · ${latency}`)]];
  }
  // Two columns of label (12), value (6), a space and a sparkline, three spaces apart: rates on
  // the left, latency on the right. The sparklines take what the width leaves (19 cells at 80).
  // A rate needs two snapshots (the last point); a latency is the newest snapshot's.
  const points = input.data.points;
  const w = Math.max(10, Math.floor((input.width - 2 * 19 - 3) / 2));
  const last = points[points.length - 1];
  const cell = (label: string, value: string, k: keyof Omit<RatePoint, 'at'>, color: Segment['color']): Line => [
    t(`${fit(label, 12)}${fit(value, 6, 'right')} `),
    t(sparkline(points.map((p) => p[k] ?? 0), w), { color }),
  ];
  const gap = t('   ');
  // Under the latency sparklines, what they measure, in as many words as fit.
  const room = input.width - 19 - w - gap.text.length;
  const about = [
    `placed → confirmed p95 ${duration(lat.p95Ms)} (${over})`,
    `p95 ${duration(lat.p95Ms)} (${over})`,
  ].find((text) => [...text].length <= room);
  return [
    [...cell('placed/s', rate(last?.placed), 'placed', 'cyan'), gap, ...cell('p50 latency', duration(lat.p50Ms), 'p50Ms', 'blue')],
    [...cell('confirmed/s', rate(last?.confirmed), 'confirmed', 'green'), gap, ...cell('p99 latency', duration(lat.p99Ms), 'p99Ms', 'magenta')],
    [...cell('cancelled/s', rate(last?.cancelled), 'cancelled', 'yellow'), gap, t(about ?? '', { color: 'gray' })],
  ];
}

function stockLine(s: StatsSnapshot): Line {
  const st = s.stock;
  const rec = st.reconciliation;
  const ledger =
    rec.status === 'pending' ? 'ledger check pending' : `ledger ${rec.status}${rec.status === 'fail' ? ` (${rec.drifting} drifting)` : ''}, checked ${age(rec.ageMs)} ago`;
  return [
    t('stock   ', { bold: true }),
    t(`${capped(st.outOfStock)} out of stock · ${capped(st.lowStock)} at or below ${st.lowStockMark} · `),
    t(ledger, { color: rec.status === 'ok' ? 'green' : rec.status === 'pending' ? 'gray' : 'red' }),
  ];
}

function moneyLine(s: StatsSnapshot): Line {
  const m = s.money;
  return [
    t('money   ', { bold: true }),
    t(`captured ${cents(m.capturedCents)} · refunded ${cents(m.refundedCents)} · authorized, not captured ${cents(m.authorizedNotCapturedCents)}`),
  ];
}

function workers(s: StatsSnapshot): Line[] {
  if (s.workers.length === 0) return [[t('workers ', { bold: true }), t('none registered')]];
  return [
    [t('workers ', { bold: true })],
    ...s.workers.map((w): Line => [
      t(`  ${w.state === 'alive' ? '●' : '○'} ${w.id} ${w.host}:${w.pid} ${w.roles.join(',')} ×${w.concurrency} handled ${w.handled} `),
      t(w.state, { color: w.state === 'alive' ? 'green' : 'red' }),
    ]),
  ];
}

function lower(input: FrameInput, s: StatsSnapshot, rows: number): Line[] {
  if (rows <= 0) return [];
  const tab = input.tab ?? 'orders';
  if (input.help) return helpLines().slice(0, rows);
  const tabs: Line = input.plain
    ? []
    : [
        t(' Orders ', tab === 'orders' ? { inverse: true, bold: true } : {}),
        t(' '),
        t(' Dead letters ', tab === 'dead-letters' ? { inverse: true, bold: true } : {}),
        input.prompt ? t(`  ${input.prompt}`, { color: 'yellow', bold: true }) : t('  Tab ↑↓ Enter · p pause · r refresh · ? help · q quit', { color: 'gray' }),
      ];
  const out: Line[] = tabs.length > 0 ? [tabs] : [];
  if (input.detail) {
    const d = input.detail;
    out.push([t(`history of ${d.reference} (Enter or Esc to go back)`, { bold: true })]);
    if (d.error) out.push([t(d.error, { color: 'red' })]);
    else if (!d.items) out.push([t('loading…', { color: 'gray' })]);
    else for (const h of d.items) out.push([t(`  ${h.at}  ${fit(h.from ?? '–', 10)} → ${fit(h.to, 10)} ${h.reason ?? ''}`)]);
    return out.slice(0, rows);
  }
  const room = rows - out.length - 1;
  const selected = input.selected ?? -1;
  if (input.plain || tab === 'orders') {
    if (input.plain) out.push([t('recent orders', { bold: true })]);
    out.push([t(`  ${fit('reference', 14)}${fit('status', 11)}${fit('total', 12, 'right')}${fit('age', 8, 'right')}`, { bold: true })]);
    const list = input.plain ? s.orders.recent : s.orders.recent.slice(0, Math.max(0, room));
    if (list.length === 0) out.push([t('  no orders yet', { color: 'gray' })]);
    list.forEach((o, i) => {
      const text = `${i === selected ? '›' : ' '} ${fit(o.reference, 14)}${fit(o.status, 11)}${fit(cents(o.totalCents), 12, 'right')}${fit(age(input.now - Date.parse(o.createdAt)), 8, 'right')}`;
      out.push([t(text, i === selected ? { inverse: true } : { color: o.status === 'cancelled' ? 'yellow' : undefined })]);
    });
  }
  if (input.plain || tab === 'dead-letters') {
    if (input.plain) out.push([t('dead letters', { bold: true })]);
    out.push([t(`  ${fit('id', 8)}${fit('topic', 9)}${fit('attempts', 9, 'right')}${fit('age', 7, 'right')}  last error`, { bold: true })]);
    const list = input.plain ? s.deadLetters : s.deadLetters.slice(0, Math.max(0, room));
    if (list.length === 0) out.push([t('  no dead letters', { color: 'gray' })]);
    list.forEach((d, i) => {
      const when = d.deadAt ? age(input.now - Date.parse(d.deadAt)) : '–';
      const text = `${i === selected ? '›' : ' '} ${fit(String(d.id), 8)}${fit(d.topic, 9)}${fit(String(d.attempts), 9, 'right')}${fit(when, 7, 'right')}  ${d.lastError ?? ''}`;
      out.push([t(text, i === selected ? { inverse: true } : { color: 'red' })]);
    });
  }
  return input.plain ? out : out.slice(0, rows);
}

function helpLines(): Line[] {
  return [
    [t('keys', { bold: true })],
    [t('  q        quit')],
    [t('  p        pause / resume (the screen freezes; nothing is fetched)')],
    [t('  r        refresh now')],
    [t('  s        pause or resume a pipeline step for the deployment (asks which, then y to confirm)')],
    [t('  Tab      switch between recent orders and dead letters')],
    [t('  ↑ ↓      select a row; Enter shows the order\'s history')],
    [t('  ?        this help (any key closes it)')],
    [t('read-only: no key changes data', { color: 'gray' })],
  ];
}
