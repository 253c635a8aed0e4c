import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
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
  it('when serve starts, then one start line names where it listens and its backend, and Fastify adds no line of its own', () => {
    const lines = server!.output().stderr.split('\n').filter((l) => l.includes('listening') || l.includes('serving on'));
    expect(lines, server!.output().stderr).toHaveLength(1);
    const start = JSON.parse(lines[0]!) as { msg: string };
    expect(start.msg).toBe(`buildflow serving on ${server!.url} (sqlite ${join(tmp.dir, 'buildflow.db')}, no redis, no workers)`);
  });

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

  it('when no worker runs, then --wait gives up after --timeout-ms (the old spelling of --wait-timeout) with exit 5; a worker then settles the order', async () => {
    const url = server!.url;
    const waited = await asAdmin(['order', 'create', '--item', 'HT-HAM-16OZ:1', '--wait', '--timeout-ms', '300', '--url', url]);
    expect(waited.code).toBe(5);
    const m = /^error: order (BF-\w+) is still pending after 300 ms$/.exec(waited.stderr.trim().split('\n').at(-1) ?? '');
    expect(m, waited.stderr).not.toBeNull();
    expect(waited.stderr).toContain('buildflow: --timeout-ms is deprecated; write --wait-timeout 300ms\n');
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

describe('buildflow serve shutdown', () => {
  it('when serve gets SIGTERM with a payment in flight, then it finishes that batch and exits 0', async () => {
    const dir = tempDir();
    try {
      expect((await runCli(['seed', '--data-dir', dir.dir])).code).toBe(0);
      // Each charge takes 5 s: the pay batch is in hand when the signal comes.
      const serve = await startServer(dir.dir, [], { BUILDFLOW_PAYMENT_LATENCY_MS: '5000', BUILDFLOW_ADMIN_KEY: 'shutdown-test-admin-key-0123' });
      let code: number | null;
      let id = '';
      try {
        const res = await fetch(`${serve.url}/v1/orders`, {
          method: 'POST',
          headers: { authorization: 'Bearer shutdown-test-admin-key-0123', 'content-type': 'application/json' },
          body: JSON.stringify({ items: [{ sku: 'HT-HAM-16OZ', quantity: 1 }] }),
        });
        expect(res.status).toBe(201);
        id = ((await res.json()) as { id: string }).id;
        // Wait until the charge has started: reserved, with the pending payment row written before the call.
        const started = Date.now();
        for (;;) {
          const r = await fetch(`${serve.url}/v1/orders/${id}`, { headers: { authorization: 'Bearer shutdown-test-admin-key-0123' } });
          const status = ((await r.json()) as { status: string }).status;
          if (status === 'reserved') break;
          if (status !== 'pending') throw new Error(`order went ${status} before the test saw the charge in flight`);
          if (Date.now() - started > 40_000) throw new Error('order never reserved');
          await new Promise((r2) => setTimeout(r2, 50));
        }
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        code = await serve.stop();
      }
      expect(code, serve.output().stdout + serve.output().stderr).toBe(0);
      // Logs go to stderr (issue 14), so the shutdown lines are read there.
      expect(serve.output().stderr).toContain('"msg":"stopped"');
      expect(serve.output().stderr).not.toContain('shutdown problem');
      // The batch in hand was finished, not abandoned: the charge was applied before exit.
      const db = new BetterSqlite3(join(dir.dir, 'buildflow.db'), { readonly: true });
      try {
        expect(db.prepare('select status from payments where order_id = ?').get(id)).toEqual({ status: 'captured' });
      } finally {
        db.close();
      }
    } finally {
      dir.remove();
    }
  }, 90_000);
});
