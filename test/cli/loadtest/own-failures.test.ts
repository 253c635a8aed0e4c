import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ADMIN_KEY, assertBuilt, hasStackTrace, json, runCli, startServer, tempDir } from '../harness.js';
import { startBrokenTarget } from './broken-target.js';
import { startFaultyProxy } from './faulty-proxy.js';

// loadtest exits 1 only for a bug of its own: a flaky target, a bad output path or the wrong deployment each say so with their own code.
const tmp = tempDir('buildflow-loadtest-own-');
let target: Awaited<ReturnType<typeof startBrokenTarget>>;
beforeAll(async () => {
  assertBuilt();
  target = await startBrokenTarget('none', CLI_ADMIN_KEY);
});
afterAll(async () => {
  await target?.close();
  tmp.remove();
});

describe('loadtest fails only for its own reasons with exit 1', () => {
  it('when a proxy answers 500 to one request in thirty, then set-up and settling retry, and the run completes failing no-5xx (exit 11), never 1', async () => {
    const proxy = await startFaultyProxy(target.url, { fail500Every: 30 });
    try {
      const result = await runCli(['loadtest', '--url', proxy.url, '--duration', '2s', '--connections', '8', '--customers', '6', '--settle-timeout', '3s', '--max-p99', '5s', '--json']);
      expect(result.code, result.stderr).toBe(11);
      expect(result.stderr).not.toMatch(/boom/);
      const report = json(result);
      const failed = report.checks.filter((c: { status: string }) => c.status === 'fail').map((c: { name: string }) => c.name);
      // The generator's own requests met the 500s; the checks that read state through the proxy did not fail for it.
      expect(failed).toEqual(['no-5xx']);
      expect(report.errors.byStatus['500']).toBeGreaterThan(0);
      expect(proxy.stats.failed).toBeGreaterThan(report.errors.byStatus['500'] - 1);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('when every set-up request fails with 500, then loadtest exits 5 naming the request and the answer, after a bounded number of attempts', async () => {
    const proxy = await startFaultyProxy(target.url, { fail500Every: 1 });
    try {
      const started = Date.now();
      const result = await runCli(['loadtest', '--url', proxy.url, '--duration', '1s']);
      expect(result.code).toBe(5);
      expect(result.stderr).toBe('error: set-up request GET /v1/products still failed after 6 attempts: answered 500 INTERNAL: boom\n');
      expect(proxy.stats.requests).toBe(6);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('when --report names a directory that does not exist, then loadtest exits 2 before sending any load', async () => {
    const before = target.orders();
    const result = await runCli(['loadtest', '--url', target.url, '--duration', '1s', '--report', '/nonexistent/dir/x.html']);
    expect([result.code, result.stderr]).toEqual([2, 'error: --report /nonexistent/dir/x.html: directory /nonexistent/dir does not exist\n']);
    expect(target.orders()).toBe(before);
    const dir = await runCli(['loadtest', '--url', target.url, '--duration', '1s', '--junit', tmp.dir]);
    expect([dir.code, dir.stderr]).toEqual([2, `error: --junit ${tmp.dir}: ${tmp.dir} is a directory\n`]);
  });

  it('when a run writes its files, then it says where (stderr), and the JSON report lists them', async () => {
    const files = { report: join(tmp.dir, 'r.html'), junit: join(tmp.dir, 'r.xml'), history: join(tmp.dir, 'r.jsonl') };
    const text = await runCli(['loadtest', '--url', target.url, '--duration', '1s', '--customers', '2', '--connections', '2', '--report', files.report, '--junit', files.junit, '--history', files.history]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain(`wrote HTML report to ${files.report}\n`);
    expect(text.stderr).toContain(`wrote JUnit to ${files.junit}\n`);
    expect(text.stderr).toContain(`wrote history to ${files.history}\n`);
    // The throughput comes with what it was made of.
    expect(text.stdout).toMatch(/│ intake +│ [\d.]+ req\/s \(\d+ requests\) · orders ended: [\d.]+% confirmed/);
    const j = await runCli(['loadtest', '--url', target.url, '--duration', '1s', '--customers', '2', '--connections', '2', '--report', files.report, '--json']);
    expect(json(j).outputs).toEqual({ report: files.report });
    expect(json(j).outcomes.shares.confirmed).toBeGreaterThan(0.5);
    expect(existsSync(files.report)).toBe(true);
  }, 60_000);

  it('when `loadtest check` is pointed at a deployment that has none of the history\u2019s orders, then it says so (exit 3) instead of reporting every order lost', async () => {
    const history = join(tmp.dir, 'h.jsonl');
    const first = await runCli(['loadtest', '--url', target.url, '--duration', '1s', '--customers', '2', '--connections', '2', '--history', history, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const other = await startBrokenTarget('none', CLI_ADMIN_KEY);
    try {
      const result = await runCli(['loadtest', 'check', history, '--url', other.url]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(new RegExp(`^error: none of the \\d+ orders ${history} accepted exist at ${other.url}: is this the deployment the history ran against \\(${target.url}\\)\\?\\n$`));
      expect(hasStackTrace(result.stderr)).toBe(false);
    } finally {
      await other.close();
    }
  }, 60_000);
});

describe('loadtest against a real server with its sign-in limits', () => {
  it('when it runs five times in a row against one server, then every run starts: customers are reused, not signed in again', async () => {
    const dir = tempDir('buildflow-loadtest-repeat-');
    expect((await runCli(['seed', '--data-dir', dir.dir])).code).toBe(0);
    // The server's own limits, as deployed: 50 sign-ins a minute per address.
    const server = await startServer(dir.dir);
    try {
      const how: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        const result = await runCli(['loadtest', '--url', server.url, '--duration', '500ms', '--customers', '20', '--connections', '4', '--settle-timeout', '30s', '--json']);
        expect(result.code, `run ${i + 1}: ${result.stderr}`).toBe(0);
        how.push(json(result).run.customers);
      }
      expect(how[0]).toEqual({ reused: 0, signedIn: 0, signedUp: 20 });
      for (const h of how.slice(1)) expect(h).toEqual({ reused: 20, signedIn: 0, signedUp: 0 });
    } finally {
      await server.stop();
      dir.remove();
    }
  }, 240_000);
});
