import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, hasStackTrace, json, runCli, startServer, tempDir, type RunResult } from './harness.js';

// `buildflow pipeline …`, `order trace` and bulk `dead-letters` against a real `buildflow serve` with its workers.
const tmp = tempDir('buildflow-cli-pipeline-');
let server: Awaited<ReturnType<typeof startServer>>;
const cli = (...args: string[]): Promise<RunResult> => runCli([...args, '--url', server.url]);

beforeAll(async () => {
  assertBuilt();
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  server = await startServer(tmp.dir);
});

afterAll(async () => {
  await server?.stop();
  tmp.remove();
});

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('buildflow pipeline', () => {
  it('when pay is paused, an order placed and pay resumed, then status shows the order waiting with its stock, and its trace tells the story', async () => {
    const paused = await cli('pipeline', 'pause', 'pay', '--reason', 'provider outage');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^pay is paused: 0 orders wait at it/);
    const order = json(await cli('order', 'create', '--item', 'PT-DRL-18V:2', '--json'));
    await until('the order to wait at pay', async () => json(await cli('pipeline', 'status', '--json')).steps[1].waitingOrders === 1);
    const status = json(await cli('pipeline', 'status', '--json'));
    expect(status.steps[1]).toMatchObject({ step: 'pay', paused: true, reason: 'provider outage', waitingOrders: 1, stockHeld: 2 });
    const table = await cli('pipeline', 'status');
    expect(table.stdout).toContain('PAUSED');
    expect(table.stdout).toContain('provider outage');

    const resumed = await cli('pipeline', 'resume', 'pay');
    expect(resumed.stdout.trim()).toBe('pay is running again');
    expect((await cli('pipeline', 'resume', 'pay')).stdout.trim()).toBe('pay was not paused');
    await until('the order to be confirmed', async () => json(await cli('order', 'get', order.reference, '--json')).status === 'confirmed');

    const trace = await cli('order', 'trace', order.reference);
    expect(trace.code, trace.stderr).toBe(0);
    for (const text of [`${order.reference}: confirmed`, 'pending → reserved', 'reserved → paid', 'payment captured', 'paid → confirmed', 'order_confirmed']) expect(trace.stdout).toContain(text);
    const traced = json(await cli('order', 'trace', order.reference, '--json'));
    expect(traced.events.map((e: { kind: string }) => e.kind)).toContain('stock');
  });

  it('when the step is unknown, then exit 3 in one line', async () => {
    const r = await cli('pipeline', 'pause', 'ship');
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/^error: unknown step "ship"/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('buildflow dead-letters retry|discard in bulk', () => {
  it('when nothing matches, then exit 3; with no filter or an id and a filter, then exit 2', async () => {
    const none = await runCli(['dead-letters', 'retry', '--all', '--dry-run', '--data-dir', tmp.dir]);
    expect(none.code).toBe(3);
    expect(none.stderr.trim()).toBe('error: no dead letters match');
    const discard = await runCli(['dead-letters', 'discard', '--step', 'pay', '--data-dir', tmp.dir]);
    expect(discard.code).toBe(3);
    const bare = await runCli(['dead-letters', 'discard', '--data-dir', tmp.dir]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--step, --reason, --since, --until, --order, or --all');
    const both = await runCli(['dead-letters', 'retry', '7', '--step', 'pay', '--data-dir', tmp.dir]);
    expect(both.code).toBe(2);
    const badTime = await runCli(['dead-letters', 'retry', '--since', 'yesterday', '--data-dir', tmp.dir]);
    expect(badTime.code).toBe(2);
    expect(hasStackTrace(badTime.stderr)).toBe(false);
  });
});
