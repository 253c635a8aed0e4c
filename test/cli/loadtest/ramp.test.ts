import { describe, expect, it } from 'vitest';
import { constantSchedule, stagedSchedule } from '../../../src/cli/loadtest/generator/arrival-schedule.js';
import { CLI_ADMIN_KEY, json, runCli } from '../harness.js';
import { startBrokenTarget } from './broken-target.js';
import { startFaultyProxy } from './faulty-proxy.js';

const ORDERS_ONLY = ['--read-share', '0', '--retry-share', '0', '--cancel-share', '0', '--customers', '2', '--settle-timeout', '3s'];

describe('arrival schedules', () => {
  it('when stages ramp 0 → 40 → 80 → 0 over a second each, then each stage holds the area under its rate (20, 60, 40) and the offsets rise', () => {
    const s = stagedSchedule([
      { durationMs: 1000, toRate: 40 },
      { durationMs: 1000, toRate: 80 },
      { durationMs: 1000, toRate: 0 },
    ]);
    const offsets: number[] = [];
    for (let i = 0; s.offsetOf(i) !== undefined; i++) offsets.push(s.offsetOf(i)!);
    expect(offsets).toHaveLength(120);
    expect([offsets.filter((o) => o < 1000).length, offsets.filter((o) => o >= 1000 && o < 2000).length, offsets.filter((o) => o >= 2000).length]).toEqual([20, 60, 40]);
    expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
    expect([s.dueBefore(1000), s.dueBefore(2000), s.dueBefore(3000)]).toEqual([20, 80, 120]);
    expect([s.rateAt(500), s.rateAt(1500), s.rateAt(2500)]).toEqual([20, 60, 40]);
    // A constant rate is the same thing flat.
    const c = constantSchedule(50, 2000);
    expect([c.offsetOf(0), c.offsetOf(1), c.offsetOf(99), c.offsetOf(100), c.dueBefore(2000)]).toEqual([0, 20, 1980, undefined, 100]);
  });
});

describe('loadtest --stages, --abort-on-fail, --find-knee', () => {
  it('when they are given what they cannot use, then exit 2 naming why, before anything starts', async () => {
    const cases: [string[], string][] = [
      [['--stages', '1s:10', '--rate', '5'], 'error: --stages sets the rate and the length of the run: leave out --rate\n'],
      [['--stages', '1s'], `error: option '--stages <list>' argument '1s' is invalid. expected DURATION:RATE stages, e.g. 30s:100,1m:400,30s:0 (not "1s")\n`],
      [['--find-knee', '--min-rps', '10'], 'error: --find-knee needs a ceiling to break (a latency or errors.rate with < or <=), e.g. --max-p99 200ms\n'],
      [['--abort-on-fail'], 'error: --abort-on-fail needs a threshold judged second by second (a latency, a rate or errors.rate), e.g. --max-p99 200ms\n'],
    ];
    for (const [args, stderr] of cases) {
      const result = await runCli(['loadtest', ...args]);
      expect([result.code, result.stderr]).toEqual([2, stderr]);
    }
  });

  it('when run in stages behind a proxy that makes requests queue, then every stage places its scheduled number of requests, the late ones counted in theirs', async () => {
    const target = await startBrokenTarget('none', CLI_ADMIN_KEY);
    // 2 connections through 30 ms a request: about 66 requests a second, below the second stage's peak of 80.
    const proxy = await startFaultyProxy(target.url, { delayMs: 30 });
    try {
      // A last stage at rate 0 leaves time for the queue to drain, so nothing due is dropped however busy the machine.
      const result = await runCli(['loadtest', '--url', proxy.url, '--stages', '1s:40,1s:80,1s:0,3s:0', '--connections', '2', ...ORDERS_ONLY, '--json']);
      expect(result.code, result.stderr).toBe(0);
      const r = json(result);
      expect(r.run.stages).toEqual([
        { durationMs: 1000, toRate: 40 },
        { durationMs: 1000, toRate: 80 },
        { durationMs: 1000, toRate: 0 },
        { durationMs: 3000, toRate: 0 },
      ]);
      expect(r.stages.map((g: { due: number }) => g.due)).toEqual([20, 60, 40, 0]);
      expect(r.stages.map((g: { scheduled: number }) => g.scheduled)).toEqual([20, 60, 40, 0]);
      expect(r.stages.reduce((a: number, g: { late: number }) => a + g.late, 0)).toBeGreaterThan(0);
      expect(r.openLoop.dropped).toBe(0);
      const text = await runCli(['loadtest', '--url', target.url, '--stages', '1s:20', ...ORDERS_ONLY]);
      expect(text.stdout).toMatch(/│ 1: 0\.0–1\.0 s +│ 0 → 20 +│ 10 +│ 10 +│/);
    } finally {
      await proxy.close();
      await target.close();
    }
  }, 60_000);

  it('when --abort-on-fail and p99 stays over its threshold, then the load stops after 5 s broken, the orders still settle and are checked, and the exit code is 10', async () => {
    const target = await startBrokenTarget('none', CLI_ADMIN_KEY);
    const proxy = await startFaultyProxy(target.url, { delayMs: 150 });
    try {
      const started = Date.now();
      const result = await runCli(['loadtest', '--url', proxy.url, '--rate', '20', '--duration', '30s', '--max-p99', '50ms', '--abort-on-fail', ...ORDERS_ONLY, '--json']);
      expect(result.code, result.stderr).toBe(10);
      const r = json(result);
      expect(r.run.aborted).toMatchObject({ fromSecond: 0, atSecond: 4, thresholds: ['intake.p99<=50ms'] });
      expect(r.run.measuredMs).toBeLessThan(12_000);
      expect(Date.now() - started).toBeLessThan(25_000);
      expect(r.checks.filter((c: { status: string }) => c.status === 'fail')).toEqual([]);
      expect(r.checks.find((c: { name: string }) => c.name === 'accepted-orders-final').status).toBe('pass');
    } finally {
      await proxy.close();
      await target.close();
    }
  }, 60_000);

  it('when --find-knee ramps against a target that serves about 50 requests a second, then it reports a knee near that rate', async () => {
    const target = await startBrokenTarget('none', CLI_ADMIN_KEY);
    // One request at a time, 20 ms each: past ~50/s requests queue without end and p99 climbs; below
    // it they take 20–40 ms, far under the 500 ms threshold even on a busy machine.
    const proxy = await startFaultyProxy(target.url, { serialMs: 20 });
    try {
      const result = await runCli(['loadtest', '--url', proxy.url, '--find-knee', '--rate', '150', '--duration', '8s', '--max-p99', '500ms', ...ORDERS_ONLY, '--json']);
      expect(result.code, result.stderr).toBe(0);
      const r = json(result);
      expect(r.knee.found).toBe(true);
      expect(r.knee.thresholds).toEqual(['intake.p99<=500ms']);
      expect(r.knee.heldRate).toBeGreaterThan(25);
      expect(r.knee.heldRate).toBeLessThan(130);
      // The thresholds were the knee's criterion: reported for the part that held, not counted in the exit code.
      expect(r.thresholds.map((t: { expression: string }) => t.expression)).toEqual(['intake.p99<=500ms']);
      expect(r.exitCode).toBe(0);
    } finally {
      await proxy.close();
      await target.close();
    }
  }, 60_000);
});
