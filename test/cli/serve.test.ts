import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, json, runCli, startCli, startServer, tempDir } from './harness.js';

// The scale-out shape on one machine: `serve --no-worker` takes orders, `buildflow worker` works them.
const tmp = tempDir();
let server: Awaited<ReturnType<typeof startServer>> | undefined;

beforeAll(async () => {
  assertBuilt();
  expect((await runCli(['seed', '--data-dir', tmp.dir])).code).toBe(0);
  // No BUILDFLOW_ADMIN_KEY: serve generates one; the clients below read it from the file.
  server = await startServer(tmp.dir, ['--no-worker'], { BUILDFLOW_ADMIN_KEY: '' });
});

/** Runs a client command as the admin, with the key serve generated. */
const asAdmin = (args: string[]) => runCli(args, { env: { BUILDFLOW_ADMIN_KEY: readFileSync(join(tmp.dir, 'admin-key'), 'utf8').trim() } });

afterAll(async () => {
  try {
    if (server) expect(await server.stop()).toBe(0);
  } finally {
    tmp.remove();
  }
});

describe('buildflow serve and worker', () => {
  it('when serve generated the admin key, then it says where the key is but never prints it', () => {
    const key = readFileSync(join(tmp.dir, 'admin-key'), 'utf8').trim();
    // Logs go to stderr; stdout stays for data.
    const { stdout, stderr } = server!.output();
    expect(stdout).toBe('');
    expect(stderr).toContain(`cat ${join(tmp.dir, 'admin-key')}`);
    expect(stderr).not.toContain(key);
    // The token secret is generated the same way and never printed either.
    const secret = readFileSync(join(tmp.dir, 'token-secret'), 'utf8').trim();
    expect(stderr).toContain(join(tmp.dir, 'token-secret'));
    expect(stderr).not.toContain(secret);
  });

  it('when no worker runs, then --wait gives up after --timeout-ms with exit 5; a worker then settles the order', async () => {
    const url = server!.url;
    const waited = await asAdmin(['order', 'create', '--item', 'HT-HAM-16OZ:1', '--wait', '--timeout-ms', '300', '--url', url]);
    expect(waited.code).toBe(5);
    const m = /^error: order (BF-\w+) is still pending after 300 ms$/.exec(waited.stderr.trim().split('\n').at(-1) ?? '');
    expect(m, waited.stderr).not.toBeNull();
    const reference = m![1]!;

    const worker = startCli(['worker', '--data-dir', tmp.dir, '--concurrency', '1']);
    try {
      await worker.waitForOutput('buildflow worker ready');
      const placed = await asAdmin(['order', 'create', '--item', 'HT-TAPE-25:1', '--wait', '--json', '--url', url]);
      expect(placed.code, placed.stderr).toBe(0);
      expect(json(placed).status).toBe('confirmed');

      let status = '';
      for (let i = 0; i < 100 && status !== 'confirmed'; i++) {
        status = json(await asAdmin(['order', 'get', reference, '--json', '--url', url])).status;
        if (status !== 'confirmed') await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('confirmed');
    } finally {
      expect(await worker.stop()).toBe(0);
    }
    expect(worker.output().stderr).toContain('"msg":"stopped"');
  });

  it('when the port is taken, then serve exits 8 with one line on stderr', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const r = await runCli(['serve', '--port', String(port), '--data-dir', tmp.dir]);
      expect(r.code).toBe(8);
      expect(r.stderr.trim()).toBe(`error: cannot listen on 127.0.0.1:${port}: the address is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
