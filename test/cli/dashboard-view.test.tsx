import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderToString } from 'ink';
import { cleanup, render } from 'ink-testing-library';
import { DashboardApp } from '../../src/cli/dashboard/dashboard-app.js';
import { FrameView } from '../../src/cli/dashboard/frame-view.js';
import { loadInk } from '../../src/cli/dashboard/ink.js';
import { buildFrame, frameText, lineLength, type FrameInput } from '../../src/cli/dashboard/frame.js';
import type { DashboardData, RatePoint } from '../../src/cli/dashboard/dashboard-model.js';
import type { StatsSnapshot } from '../../src/core/stats/snapshot-types.js';
import { NOW, busySnapshot, emptySnapshot } from './dashboard-fixtures.js';

// The components take Ink from the module the CLI loads it into before it renders.
beforeAll(async () => {
  await loadInk();
});

afterEach(() => cleanup());

const BASE = 'http://127.0.0.1:3000';
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** Waits until the frame satisfies `ok` (renders are asynchronous; a loaded machine is slow). */
async function frameWhere(lastFrame: () => string | undefined, ok: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = lastFrame() ?? '';
    if (ok(text)) return text;
    await tick(10);
  }
  return lastFrame() ?? '';
}

/** A minute of rates, rising then falling, so the sparklines have a shape. */
const POINTS: RatePoint[] = Array.from({ length: 30 }, (_, i) => ({
  at: NOW - (30 - i) * 2000,
  placed: 100 + 80 * Math.sin(i / 4),
  confirmed: 90 + 70 * Math.sin((i - 2) / 4),
  cancelled: i % 7 === 0 ? 6 : 2,
  p50Ms: 420 + 60 * Math.sin(i / 5),
  p99Ms: 2000 + 40 * i,
}));

function busyData(): DashboardData {
  return { snapshot: busySnapshot(), receivedAt: NOW - 1000, error: null, points: POINTS };
}

function frame(over: Partial<FrameInput>): FrameInput {
  return { data: busyData(), now: NOW, width: 80, height: 24, url: BASE, ...over };
}

/** Compares with test/cli/golden/<name>.txt; UPDATE_GOLDEN=1 rewrites it (review the diff). */
function expectGolden(name: string, text: string) {
  const file = new URL(`./golden/${name}.txt`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, `${text}\n`);
  expect(text).toBe(readFileSync(file, 'utf8').replace(/\n$/, ''));
}

describe('dashboard frames', () => {
  for (const [width, height] of [
    [80, 24],
    [120, 40],
  ] as const) {
    it(`when a busy deployment is drawn at ${width}×${height}, then the frame matches the golden one and fits the terminal`, () => {
      const lines = buildFrame(frame({ width, height }));
      const text = renderToString(<FrameView lines={lines} color={false} />, { columns: width });
      expectGolden(`dashboard-busy-${width}x${height}`, text);
      const rows = text.split('\n');
      expect(rows.length).toBeLessThanOrEqual(height - 1);
      expect(Math.max(...rows.map((r) => [...r].length))).toBeLessThanOrEqual(width);
    });
  }

  it('when the terminal is taller, then more recent orders fill the height, never past it', () => {
    for (const height of [24, 30, 45, 60]) {
      const lines = buildFrame(frame({ height }));
      expect(lines.length).toBe(Math.min(height - 1, lines.length));
      expect(lines.length).toBeLessThanOrEqual(height - 1);
      expect(Math.max(...lines.map(lineLength))).toBeLessThanOrEqual(80);
    }
    const tall = frameText(buildFrame(frame({ height: 45 })));
    const short = frameText(buildFrame(frame({ height: 24 })));
    const refs = (t: string) => (t.match(/BF-\d{8}/g) ?? []).length;
    expect(refs(tall)).toBeGreaterThan(refs(short));
  });

  it('when money has moved, then one line shows captured, refunded and authorized-not-captured totals in currency units', () => {
    const text = frameText(buildFrame(frame({})));
    expect(text).toMatch(/^money   captured 1432604\.00 · refunded 259\.98 · authorized, not captured 3901\.00$/m);
  });

  it('when the terminal is smaller than 80×24, then one line says so', () => {
    for (const [width, height] of [
      [79, 40],
      [120, 23],
    ]) {
      const text = renderToString(<FrameView lines={buildFrame(frame({ width, height }))} color={false} />, { columns: width });
      expect(text).toBe(`terminal too small (${width}×${height}): buildflow dashboard needs 80×24`.slice(0, width));
    }
  });

  // Colour on a real terminal (and NO_COLOR there) is checked in the tmux test.
  it('when colour is off, then the output has no colour codes', () => {
    const lines = buildFrame(frame({}));
    expect(renderToString(<FrameView lines={lines} color={false} />, { columns: 80 })).not.toMatch(/\u001b\[3\dm/);
  });

  it('when pay is paused, then its row says PAUSED with how long and why where its bar would be, within 80×24', () => {
    const s = busySnapshot();
    s.topics.find((x) => x.topic === 'pay')!.paused = { since: new Date(Date.parse(s.generatedAt) - 5 * 60_000).toISOString(), reason: 'provider outage' };
    const lines = buildFrame(frame({ data: { snapshot: s, receivedAt: NOW - 1000, error: null, points: POINTS } }));
    const text = renderToString(<FrameView lines={lines} color={false} />, { columns: 80 });
    const row = text.split('\n').find((l) => l.startsWith('pay '))!;
    expect(row).toMatch(/11\.7k\/19 {2}PAUSED 5m: provider …$/);
    const wide = renderToString(<FrameView lines={buildFrame(frame({ data: { snapshot: s, receivedAt: NOW - 1000, error: null, points: POINTS }, width: 120, height: 40 }))} color={false} />, { columns: 120 });
    expect(wide.split('\n').find((l) => l.startsWith('pay '))).toMatch(/ {2}PAUSED 5m: provider outage$/);
    expect(text.split('\n').find((l) => l.startsWith('reserve '))).not.toContain('PAUSED');
    const rows = text.split('\n');
    expect(rows.length).toBeLessThanOrEqual(23);
    expect(Math.max(...rows.map((r) => [...r].length))).toBeLessThanOrEqual(80);
  });

  it('when orders were cancelled after reaching a stage, then the funnel still counts them at that stage', () => {
    // One order declined at payment (reserved, never paid), one cancelled after it was confirmed.
    const s = emptySnapshot();
    s.orders.byStatus.cancelled = 2;
    s.counters = { ordersPlaced: 2, ordersReserved: 2, ordersPaid: 1, ordersConfirmed: 1, ordersCancelled: 2 };
    const text = frameText(buildFrame(frame({ data: { snapshot: s, receivedAt: NOW, error: null, points: [] } })));
    expect(text).toMatch(/^funnel  placed 2 → reserved 2 → paid 1 → confirmed 1$/m);
    expect(frameText(buildFrame(frame({ data: { snapshot: s, receivedAt: NOW, error: null, points: [] }, plain: true })))).toContain(
      'funnel  placed 2 → reserved 2 → paid 1 → confirmed 1',
    );
  });

  it('when latency moves, then p50 and p99 have sparklines of their own, wider at 120 columns', () => {
    const sparkOf = (width: number, label: string) => {
      const line = frameText(buildFrame(frame({ width, height: 40 }))).split('\n').find((l) => l.includes(label))!;
      return line.slice(line.indexOf(label)).match(/[▁▂▃▄▅▆▇█]+/)![0];
    };
    // p50 falls from its peak at the 8th point to its trough at the 24th (of 30): the sparkline follows.
    const p50at80 = sparkOf(80, 'p50 latency');
    expect([...p50at80]).toHaveLength(19);
    expect(p50at80).not.toMatch(/^(.)\1*$/);
    expect([...sparkOf(80, 'p99 latency')]).toHaveLength(19);
    // At 120 the sparklines have room for all 30 points.
    expect([...sparkOf(120, 'p50 latency')]).toHaveLength(30);
    expect([...sparkOf(120, 'p99 latency')]).toHaveLength(30);
    expect(frameText(buildFrame(frame({ width: 80 })))).toMatch(/^placed\/s\s+166 \S+   p50 latency  480ms \S+$/m);
  });

  it('when the deployment is busy, then the alert line names the dead letter first and counts the rest', () => {
    const text = frameText(buildFrame(frame({ width: 120, height: 40 })));
    const alert = text.split('\n')[1]!;
    expect(alert).toBe('! 1 dead letter: buildflow dead-letters list (+2 more: 2 stuck; 1 worker gone)');
  });
});

/** A fetch the component test controls: each call takes the next answer (the last one repeats). */
function scripted(answers: (StatsSnapshot | Error)[]) {
  let calls = 0;
  const fetch = async () => {
    const a = answers[Math.min(calls, answers.length - 1)]!;
    calls += 1;
    if (a instanceof Error) throw a;
    return a;
  };
  return { fetch, calls: () => calls };
}

function unreachable(): Error {
  return Object.assign(new Error('cannot reach buildflow at http://127.0.0.1:3000: connect ECONNREFUSED'), { code: 'UNREACHABLE' });
}

function app(
  fetch: () => Promise<StatsSnapshot>,
  over: { onFatal?: (e: { code: string; message: string }) => void; fetchHistory?: (id: string) => Promise<never[]>; setStepPaused?: (step: string, pause: boolean) => Promise<void> } = {},
) {
  return render(
    <DashboardApp
      fetchSnapshot={fetch}
      fetchHistory={over.fetchHistory ?? (async () => [])}
      intervalMs={1000}
      url={BASE}
      color={false}
      onFatal={over.onFatal ?? (() => {})}
      setStepPaused={over.setStepPaused ?? (async () => {})}
    />,
  );
}

describe('dashboard component', () => {
  it('when the deployment is empty, then it shows zero depths, no orders and no alerts', async () => {
    const { lastFrame } = app(scripted([emptySnapshot()]).fetch);
    const text = await frameWhere(lastFrame, (f) => f.includes('no orders yet'));
    expect(text).toContain('✓ no alerts');
    expect(text).toContain('no orders yet');
    expect(text).toMatch(/^reserve\s+0\s+0\s+0\s+0\s+–\s+0\/0/m);
  });

  it('when the deployment is busy, then depths, the funnel and the alert are drawn', async () => {
    const { lastFrame } = app(scripted([busySnapshot()]).fetch);
    const text = await frameWhere(lastFrame, (f) => f.includes('BF-'));
    expect(text).toMatch(/^reserve\s+310\s+30\s+0\s+0\s+1s\s+12\.1k\/0/m);
    expect(text).toMatch(/^pay\s+120\s+48\s+12\s+1\s+920ms\s+11\.7k\/19/m);
    expect(text).toContain('placed 12.5k → reserved 11.4k → paid 11.1k → confirmed 11.0k');
    expect(text).toMatch(/p50 latency\s+480ms/);
    expect(text).toMatch(/p99 latency\s+2\.90s/);
    expect(text).toContain('! 1 dead letter: ');
    expect(text).toContain('BF-00012480');
  });

  it('when successive snapshots report a rising p50, then its sparkline draws one point per new snapshot', async () => {
    const at = (placed: number, agoMs: number, p50Ms: number) => {
      const s = busySnapshot(placed, agoMs);
      s.latency = { ...s.latency, p50Ms };
      return s;
    };
    // The first snapshot only sets the baseline; the next two are points: 400 ms, then 800 ms.
    const { lastFrame, stdin } = app(scripted([at(100, 4000, 400), at(200, 2000, 400), at(300, 0, 800)]).fetch);
    await frameWhere(lastFrame, (f) => f.includes('BF-'));
    stdin.write('r');
    await frameWhere(lastFrame, (f) => /p50 latency\s+400ms\s+█/.test(f));
    stdin.write('r');
    const text = await frameWhere(lastFrame, (f) => f.includes('800ms'));
    expect(text).toMatch(/p50 latency\s+800ms\s+▄█$/m);
  });

  it('when the server cannot be reached, then it says so and keeps the last data with its age', async () => {
    const first = scripted([unreachable()]);
    const none = app(first.fetch);
    await frameWhere(none.lastFrame, (f) => f.includes('unreachable'));
    expect(none.lastFrame()).toContain('! server unreachable, no data yet, retrying: cannot reach buildflow');
    expect(none.lastFrame()).toContain('no data yet');
    none.unmount();

    const later = app(scripted([busySnapshot(), unreachable()]).fetch);
    await frameWhere(later.lastFrame, (f) => f.includes('BF-'));
    later.stdin.write('r');
    const text = await frameWhere(later.lastFrame, (f) => f.includes('unreachable'));
    expect(text).toMatch(/! server unreachable, data from \d+s ago, retrying: cannot reach/);
    expect(text).toContain('BF-00012480'); // the last data is still shown
  });

  it('when p is pressed, then it says PAUSED and fetches nothing until p again', async () => {
    const s = scripted([busySnapshot(100), busySnapshot(200)]);
    const { lastFrame, stdin } = app(s.fetch);
    await frameWhere(lastFrame, (f) => f.includes('BF-'));
    stdin.write('p');
    expect(await frameWhere(lastFrame, (f) => f.startsWith('buildflow PAUSED'))).toMatch(/^buildflow PAUSED/);
    const frozen = lastFrame();
    const calls = s.calls();
    stdin.write('r');
    await tick(1200);
    expect(s.calls()).toBe(calls);
    expect(lastFrame()).toBe(frozen);
    stdin.write('p');
    expect(await frameWhere(lastFrame, (f) => !f.includes('PAUSED'))).not.toContain('PAUSED');
    expect(s.calls()).toBe(calls + 1);
  });

  it('when s, a step and y are pressed, then that step is paused after the question; another key instead of y changes nothing; a paused step is offered resume', async () => {
    const calls: [string, boolean][] = [];
    const paused = busySnapshot();
    paused.topics.find((x) => x.topic === 'confirm')!.paused = { since: paused.generatedAt, reason: null };
    const { lastFrame, stdin } = app(scripted([paused]).fetch, { setStepPaused: async (step, pause) => void calls.push([step, pause]) });
    await frameWhere(lastFrame, (f) => f.includes('BF-'));
    stdin.write('s');
    expect(await frameWhere(lastFrame, (f) => f.includes('which step?'))).toContain('which step? 1 reserve · 2 pay · 3 confirm · Esc');
    stdin.write('2');
    expect(await frameWhere(lastFrame, (f) => f.includes('pause pay for every worker? y/N'))).toBeTruthy();
    stdin.write('n');
    await frameWhere(lastFrame, (f) => f.includes('Tab ↑↓ Enter'));
    expect(calls).toEqual([]);

    stdin.write('s');
    await frameWhere(lastFrame, (f) => f.includes('which step?'));
    stdin.write('2');
    await frameWhere(lastFrame, (f) => f.includes('pause pay for every worker'));
    stdin.write('y');
    expect(await frameWhere(lastFrame, (f) => f.includes('pay paused (every worker within 2 s)'))).toBeTruthy();
    expect(calls).toEqual([['pay', true]]);

    stdin.write('x'); // any key clears the answer
    stdin.write('s');
    await frameWhere(lastFrame, (f) => f.includes('which step?'));
    stdin.write('3');
    expect(await frameWhere(lastFrame, (f) => f.includes('resume confirm for every worker? y/N'))).toBeTruthy();
    stdin.write('y');
    await frameWhere(lastFrame, (f) => f.includes('confirm resumed'));
    expect(calls).toEqual([['pay', true], ['confirm', false]]);
  });

  it('when the terminal is resized below 80×24, then one line says it is too small', async () => {
    const { lastFrame, stdout } = app(scripted([busySnapshot()]).fetch);
    await frameWhere(lastFrame, (f) => f.includes('BF-'));
    Object.defineProperty(stdout, 'columns', { value: 60, configurable: true });
    Object.defineProperty(stdout, 'rows', { value: 20, configurable: true });
    stdout.emit('resize');
    expect(await frameWhere(lastFrame, (f) => f.startsWith('terminal'))).toBe('terminal too small (60×20): buildflow dashboard needs 80×24');
  });

  it('when Tab and Enter are pressed, then dead letters show, and Enter on an order fetches its history', async () => {
    const asked: string[] = [];
    const history = async (id: string) => {
      asked.push(id);
      return [{ from: null, to: 'pending', at: '2026-12-04T11:59:00.000Z' }] as never[];
    };
    const { lastFrame, stdin } = app(scripted([busySnapshot()]).fetch, { fetchHistory: history });
    await frameWhere(lastFrame, (f) => f.includes('BF-'));
    stdin.write('\u001B[B'); // down: the second order
    await frameWhere(lastFrame, (f) => f.includes('› BF-00012479'));
    stdin.write('\r');
    expect(await frameWhere(lastFrame, (f) => f.includes('→ pending'))).toMatch(/2026-12-04T11:59:00.000Z\s+–\s+→ pending/);
    expect(asked).toEqual([busySnapshot().orders.recent[1]!.id]);
    expect(lastFrame()).toContain('history of BF-00012479');
    stdin.write('\r');
    await frameWhere(lastFrame, (f) => !f.includes('history of'));
    stdin.write('\t');
    expect(await frameWhere(lastFrame, (f) => f.includes('9123'))).toMatch(/9123\s+pay\s+5\s+\S+\s+provider timed out/);
  });

  it('when the credentials are refused, then the dashboard ends and reports it', async () => {
    const refused: { code: string }[] = [];
    const { lastFrame } = app(scripted([Object.assign(new Error('a valid admin key is required'), { code: 'UNAUTHORIZED' })]).fetch, { onFatal: (e) => refused.push(e) });
    for (let i = 0; i < 200 && refused.length === 0; i++) await tick(10);
    expect(refused.map((e) => e.code)).toEqual(['UNAUTHORIZED']);
    expect(lastFrame()).not.toContain('retrying');
  });
});
