import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ADMIN_KEY, json, runCli, tempDir } from '../harness.js';
import { startBrokenTarget } from './broken-target.js';

const tmp = tempDir('buildflow-loadtest-open-');
afterAll(() => tmp.remove());

async function runOnStall(name: string, model: string[]) {
  const target = await startBrokenTarget('stall', CLI_ADMIN_KEY);
  const history = join(tmp.dir, `${name}.jsonl`);
  try {
    const result = await runCli(['loadtest', '--url', target.url, '--duration', '4s', '--customers', '2', '--read-share', '0', '--retry-share', '0', '--cancel-share', '0', '--json', '--history', history, ...model]);
    expect(result.code, result.stderr).toBe(0);
    const latencies = readFileSync(history, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'request' && r.op === 'order')
      .map((r) => r.end - r.scheduled);
    return { report: json(result), slow: latencies.filter((l) => l >= 500).length };
  } finally {
    await target.close();
  }
}

describe('coordinated omission', () => {
  it('when the target stalls once for 1 s, then the open loop p99 shows the stall while the closed loop p99 hides it', async () => {
    // One closed-loop connection sends nothing while it waits: a single slow request among many.
    const closed = await runOnStall('closed', ['--connections', '1']);
    // The open loop keeps its schedule: every request due during the stall waits for its end.
    const open = await runOnStall('open', ['--rate', '100', '--connections', '64']);

    expect(closed.report.run.model).toBe('closed');
    expect(open.report.run.model).toBe('open');
    // Both saw the stall…
    expect(closed.report.intake.max).toBeGreaterThanOrEqual(900);
    expect(open.report.intake.max).toBeGreaterThanOrEqual(900);
    // …but the closed loop had one request in it, the open loop every request due during that second.
    expect(closed.slow).toBe(1);
    expect(open.slow).toBeGreaterThanOrEqual(30);
    expect(open.report.intake.p99).toBeGreaterThanOrEqual(700);
    // With more than 100 requests, one slow one is beyond the closed loop's 99th percentile.
    expect(closed.report.intake.count).toBeGreaterThan(100);
    expect(closed.report.intake.p99).toBeLessThan(500);
    expect(open.report.openLoop.dropped).toBe(0);
  });
});
