import { createServer } from 'node:net';

/**
 * Helpers for starting a `buildflow serve` on this machine and knowing when it is up, shared by
 * `loadtest`'s own deployments, the benchmarks and the CLI tests.
 */

/** A loopback port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once `url`/healthz answers 200, polling every 100 ms. Rejects with `exitedWhy()`'s text
 * as soon as it says the process is gone, or after `timeoutMs`.
 */
export async function waitForHealthz(url: string, o: { timeoutMs: number; exitedWhy?: () => string | undefined }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const exited = o.exitedWhy?.();
    if (exited !== undefined) throw new Error(exited);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`buildflow serve did not answer ${url}/healthz within ${o.timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
