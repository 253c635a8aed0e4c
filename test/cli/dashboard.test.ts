import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, hasStackTrace, json, runCli, startServer, tempDir, type RunningProcess } from './harness.js';

const tmp = tempDir('buildflow-dashboard-');
let server: (RunningProcess & { url: string }) | undefined;
let reference: string;

beforeAll(async () => {
  assertBuilt();
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  server = await startServer(tmp.dir);
  const placed = await runCli(['order', 'create', '--url', server.url, '--item', 'PT-DRL-18V:1', '--wait', '--json']);
  expect(placed.code, placed.stderr).toBe(0);
  reference = json(placed).reference;
});

afterAll(async () => {
  await server?.stop();
  tmp.remove();
});

describe('buildflow dashboard, one-shot', () => {
  it('when run with --once, then it prints one plain snapshot with every section and exits 0', async () => {
    const r = await runCli(['dashboard', '--once', '--url', server!.url]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^buildflow · sqlite v\d+\.\d+\.\d+ · workers 1 alive · at \d{4}-\d\d-\d\dT/);
    expect(lines[1]).toBe('✓ no alerts');
    expect(r.stdout).toMatch(/^step\s+waiting\s+active\s+delayed\s+dead\s+oldest\s+ok\/fail/m);
    expect(r.stdout).toMatch(/^reserve\s+0\s+0\s+0\s+0\s+–\s+1\/0/m);
    expect(r.stdout).toMatch(/^orders  pending 0 · reserved 0 · paid 0 · confirmed 1$/m);
    expect(r.stdout).toMatch(/^funnel  placed 1 → reserved 1 → paid 1 → confirmed 1$/m);
    // The one order of 129.99, captured at confirm.
    expect(r.stdout).toMatch(/^money   captured 129\.99 · refunded 0\.00 · authorized, not captured 0\.00$/m);
    expect(r.stdout).toMatch(/^workers\n  ● worker-\d+-[0-9a-f]{8} \S+:\d+ steps,sweeper,deliveries ×2 handled \d+ alive$/m);
    expect(r.stdout).toMatch(new RegExp(`^  ${reference}\\s+confirmed\\s+129\\.99\\s+\\S+$`, 'm'));
    expect(r.stdout).toContain('dead letters\n');
    expect(r.stdout).not.toMatch(/\u001b\[/);
    expect(r.stderr).toBe('');
  });

  it('when stdout is not a terminal and --once is not given, then it prints the same plain snapshot and exits', async () => {
    const r = await runCli(['dashboard', '--url', server!.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^buildflow · sqlite/);
    expect(r.stdout).toContain('recent orders');
  });

  it('when run with --json, then stdout is the snapshot as JSON', async () => {
    const r = await runCli(['dashboard', '--json', '--url', server!.url]);
    expect(r.code, r.stderr).toBe(0);
    const s = json(r);
    expect(Object.keys(s).sort()).toEqual(['counters', 'deadLetters', 'deployment', 'generatedAt', 'latency', 'money', 'orders', 'queue', 'rates', 'settings', 'stock', 'tookMs', 'topics', 'unattended', 'workers'].sort());
    expect(s.counters).toEqual({ ordersPlaced: 1, ordersReserved: 1, ordersPaid: 1, ordersConfirmed: 1, ordersCancelled: 0 });
    expect(s.money).toMatchObject({ capturedCents: 12999, refundedCents: 0, authorizedNotCapturedCents: 0 });
    expect(s.money.byKind.authorization).toEqual({ succeededCents: 12999, failedCents: 0 });
    expect(s.orders.recent[0]).toMatchObject({ reference, status: 'confirmed', totalCents: 12999 });
    expect(s.topics.find((t: { topic: string }) => t.topic === 'pay')).toMatchObject({ succeeded: 1, failed: 0, pending: 0 });
    expect(s.workers).toHaveLength(1);
    expect(s.rates.placed).toHaveProperty('10s');
  });

  it('when the server cannot be reached, then it exits 5 with one line (and a JSON error with --json)', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(['dashboard', '--once', '--url', url]);
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`cannot reach buildflow at ${url}`);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const j = await runCli(['dashboard', '--json', '--url', url]);
    expect(j.code).toBe(5);
    expect(json(j)).toEqual({ error: { code: 'UNREACHABLE', message: expect.stringContaining('cannot reach') } });
  });

  it('when the admin key is wrong or missing, then it exits 7', async () => {
    const wrong = await runCli(['dashboard', '--once', '--url', server!.url], { env: { BUILDFLOW_ADMIN_KEY: 'not-the-admin-key-0123456789' } });
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toMatch(/^error: the token is invalid/);
    const none = await runCli(['dashboard', '--json', '--url', server!.url], { env: { BUILDFLOW_ADMIN_KEY: '' } });
    expect(none.code).toBe(7);
    expect(json(none).error.code).toBe('UNAUTHORIZED');
  });

  it('when the interval is under a second or not a duration, then it exits 2', async () => {
    for (const bad of ['500ms', '0.5', 'fast']) {
      const r = await runCli(['dashboard', '--once', '--interval', bad, '--url', server!.url]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('expected a duration such as 5s or 500ms, from 1s to 1h');
    }
    expect((await runCli(['dashboard', '--once', '--interval', '1s', '--url', server!.url])).code).toBe(0);
  });

  it('when --help is asked, then it names the keys, the modes and the exit codes', async () => {
    const r = await runCli(['dashboard', '--help']);
    expect(r.code).toBe(0);
    for (const text of ['--interval', '--once', '--json', 'q quit, p pause', 'NO_COLOR', 'Exit 5', '7 on bad credentials']) expect(r.stdout).toContain(text);
  });
});
