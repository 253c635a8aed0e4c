import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, json, runCli, startCli, startServer, tempDir } from './harness.js';

// Ctrl-C during `order create --wait` stops the waiting, never the order. No worker runs in the
// server, so the order is still pending when the signal comes; a worker started afterwards settles it.
const tmp = tempDir();
let server: Awaited<ReturnType<typeof startServer>> | undefined;
const adminEnv = () => ({ BUILDFLOW_ADMIN_KEY: readFileSync(join(tmp.dir, 'admin-key'), 'utf8').trim() });

beforeAll(async () => {
  assertBuilt();
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  server = await startServer(tmp.dir, ['--no-worker'], { BUILDFLOW_ADMIN_KEY: '' });
});
afterAll(async () => {
  try {
    if (server) expect(await server.stop()).toBe(0);
  } finally {
    tmp.remove();
  }
});

describe('order create --wait interrupted', () => {
  it('when Ctrl-C comes while waiting, then the reference was printed at acceptance, it says how to follow the order, exits 130, and the order still reaches its final state', async () => {
    const waiting = startCli(['order', 'create', '--item', 'PT-DRL-18V:1', '--wait', '--url', server!.url], adminEnv());
    await waiting.waitForStderr('waiting for the pipeline');
    const accepted = /order (BF-\w+) accepted \(pending\)/.exec(waiting.output().stderr);
    expect(accepted, waiting.output().stderr).not.toBeNull();
    const reference = accepted![1]!;

    waiting.child.kill('SIGINT');
    expect(await waiting.exited).toBe(130);
    const lines = waiting.output().stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(`order ${reference} placed, status pending; follow it with \`buildflow order get ${reference}\``);
    expect(waiting.output().stdout).toBe('');

    const worker = startCli(['worker', '--data-dir', tmp.dir, '--concurrency', '1']);
    try {
      await worker.waitForOutput('buildflow worker ready');
      let status = '';
      for (let i = 0; i < 100 && status !== 'confirmed'; i++) {
        const got = await runCli(['order', 'get', reference, '--json', '--url', server!.url], { env: adminEnv() });
        expect(got.code, got.stderr).toBe(0);
        status = json(got).status;
        if (status !== 'confirmed') await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('confirmed');
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
