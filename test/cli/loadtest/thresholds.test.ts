import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/cli-error.js';
import { METRICS } from '../../../src/cli/loadtest/metrics/metrics-catalog.js';
import { evaluateThresholds, parseThreshold, thresholdsFromFlags } from '../../../src/cli/loadtest/metrics/thresholds.js';
import { CLI_ADMIN_KEY, runCli } from '../harness.js';
import { startBrokenTarget } from './broken-target.js';

describe('threshold expressions', () => {
  it('when a latency is given in us, ms, s or m, or bare, then the limit is milliseconds', () => {
    expect(parseThreshold('intake.p95<20ms')).toEqual({ expression: 'intake.p95<20ms', metric: 'intake.p95', op: '<', limit: 20 });
    expect(parseThreshold('e2e.p99 <= 1.5s').limit).toBe(1500);
    expect(parseThreshold('read.max<500us').limit).toBe(0.5);
    expect(parseThreshold('e2e.max<1m').limit).toBe(60_000);
    expect(parseThreshold('intake.p50<7').limit).toBe(7);
  });

  it('when every comparison is used, then each evaluates as written', () => {
    const metrics = { 'intake.rps': 100 };
    const pass = (e: string) => evaluateThresholds([parseThreshold(e)], metrics)[0]!.passed;
    expect([pass('intake.rps<101'), pass('intake.rps<100'), pass('intake.rps<=100'), pass('intake.rps>99'), pass('intake.rps>100'), pass('intake.rps>=100'), pass('intake.rps==100'), pass('intake.rps==99')]).toEqual([
      true, false, true, true, false, true, true, false,
    ]);
  });

  it('when a share is given as a percentage or a fraction, then both mean the same', () => {
    expect(parseThreshold('errors.rate<=0.1%').limit).toBeCloseTo(0.001);
    expect(parseThreshold('errors.rate<=0.001').limit).toBeCloseTo(0.001);
  });

  it('when the named flags are used, then they become the documented expressions', () => {
    expect(thresholdsFromFlags({ maxP99: 50, minRps: 1000, maxErrorRate: 0.001, maxE2eP99: 2000, threshold: ['read.p90<5ms'] }).map((t) => [t.metric, t.op, t.limit])).toEqual([
      ['intake.p99', '<=', 50],
      ['intake.rps', '>=', 1000],
      ['errors.rate', '<=', 0.001],
      ['e2e.p99', '<=', 2000],
      ['read.p90', '<', 5],
    ]);
  });

  it('when a metric has no value in the run (no reads), then its threshold fails rather than passes', () => {
    expect(evaluateThresholds([parseThreshold('read.p99<1s')], { 'read.p99': null })[0]).toMatchObject({ actual: null, passed: false });
  });

  it('when the metric is unknown, the operator missing or the unit wrong, then a usage error names the problem', () => {
    const usage = (e: string) => {
      try {
        parseThreshold(e);
      } catch (err) {
        expect(err).toBeInstanceOf(CliError);
        expect((err as CliError).exitCode).toBe(2);
        return (err as CliError).message;
      }
      throw new Error(`${e} was accepted`);
    };
    expect(usage('intake.p42<5ms')).toMatch(/unknown metric intake\.p42/);
    expect(usage('latency<5ms')).toMatch(/is not METRIC<OP>VALUE/);
    expect(usage('errors.rate<5ms')).toMatch(/5ms is not a share/);
    expect(usage('intake.p99<fast')).toMatch(/not METRIC<OP>VALUE/);
    expect(usage('intake.p99<5kg')).toMatch(/5kg is not a duration/);
  });

  it('when listing what can be named, then every metric of the report is there', () => {
    expect([...METRICS.keys()]).toEqual(expect.arrayContaining(['intake.p95', 'intake.rps', 'errors.rate', 'e2e.p99', 'read.p50', 'dropped.count', 'generator.busy']));
  });
});

describe('thresholds on the command line', () => {
  it('when --threshold names an unknown metric, then loadtest exits 2 before starting anything', async () => {
    const result = await runCli(['loadtest', '--threshold', 'intake.latency<5ms']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: threshold "intake.latency<5ms": unknown metric intake\.latency/);
  });

  it('when every check passes but a threshold is missed, then the exit code is 10 and the report shows which', async () => {
    const target = await startBrokenTarget('none', CLI_ADMIN_KEY);
    try {
      const result = await runCli(['loadtest', '--url', target.url, '--duration', '1s', '--customers', '2', '--connections', '2', '--json', '--min-rps', '1000000', '--max-p99', '10s']);
      expect(result.code).toBe(10);
      const report = JSON.parse(result.stdout);
      expect(report.checks.every((c: { status: string }) => c.status !== 'fail')).toBe(true);
      expect(report.thresholds).toEqual([
        { expression: 'intake.p99<=10000ms', metric: 'intake.p99', op: '<=', limit: 10000, actual: expect.any(Number), passed: true },
        { expression: 'intake.rps>=1000000', metric: 'intake.rps', op: '>=', limit: 1000000, actual: expect.any(Number), passed: false },
      ]);
      expect(result.stderr).toContain('error: thresholds missed: intake.rps>=1000000');
    } finally {
      await target.close();
    }
  });
});

describe('chaos on the command line', () => {
  it('when chaos is asked of a --url target, an unknown chaos is named, or redis-flush of a deployment without Redis, then exit 2 with the reason', async () => {
    const url = await runCli(['loadtest', '--url', 'http://127.0.0.1:9', '--chaos', 'worker-kill']);
    expect([url.code, url.stderr]).toEqual([2, 'error: --chaos needs a deployment loadtest starts itself (leave out --url)\n']);
    const unknown = await runCli(['loadtest', '--chaos', 'disk-fill']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: --chaos disk-fill: unknown chaos/);
    const every = await runCli(['loadtest', '--chaos', 'worker-kill:every=soon']);
    expect(every.code).toBe(2);
    expect(every.stderr).toMatch(/every must be a duration/);
    const flush = await runCli(['loadtest', '--chaos', 'redis-flush']);
    expect([flush.code, flush.stderr]).toEqual([2, 'error: --chaos redis-flush needs --backend postgres+redis\n']);
  });
});
