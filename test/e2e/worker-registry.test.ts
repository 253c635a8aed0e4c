import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, TEST_REDIS_URL, usesRedis } from '../helpers/backends.js';
import { openTestApp, type TestApp } from '../helpers/test-app.js';
import { assertBuilt, startCli, type RunningProcess } from '../cli/harness.js';
import { listWorkers, MISSED_HEARTBEATS } from '../../src/core/stats/worker-registry.js';
import type { WorkerStats } from '../../src/core/stats/snapshot-types.js';

const HEARTBEAT_MS = 200;

let app: TestApp | undefined;
const running: RunningProcess[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
  await app?.dispose();
  app = undefined;
});

function workerEnv(a: TestApp, backend: string): Record<string, string> {
  return {
    BUILDFLOW_WORKER_HEARTBEAT_MS: String(HEARTBEAT_MS),
    BUILDFLOW_LOG_LEVEL: 'info',
    ...(a.config.databaseUrl ? { BUILDFLOW_DATABASE_URL: a.config.databaseUrl } : {}),
    ...(usesRedis(backend as never) ? { BUILDFLOW_REDIS_URL: TEST_REDIS_URL, BUILDFLOW_REDIS_PREFIX: a.config.redis.prefix } : {}),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const workerOf = async (a: TestApp, pid: number): Promise<WorkerStats | undefined> => (await listWorkers(a.db, Date.now())).find((w) => w.pid === pid);

for (const backend of BACKENDS) describe(`worker registry [${backend}]`, () => {
  it('when a worker process starts, then it registers and heartbeats; after SIGKILL it shows as gone within three heartbeats', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    const worker = startCli(['worker', '--data-dir', a.dataDir, '--concurrency', '3'], workerEnv(a, backend));
    running.push(worker);
    const pid = worker.child.pid!;
    const first = await until('the worker to register', () => workerOf(a, pid));
    expect(first).toMatchObject({ state: 'alive', concurrency: 3, transport: usesRedis(backend) ? 'redis' : 'local', handled: 0 });
    expect(first.roles).toEqual(usesRedis(backend) ? ['steps', 'relay', 'sweeper', 'deliveries'] : ['steps', 'sweeper', 'deliveries']);

    const later = await until('a heartbeat', async () => {
      const w = await workerOf(a, pid);
      return w && w.lastSeenAt > first.lastSeenAt ? w : undefined;
    });
    expect(later.state).toBe('alive');
    expect(later.startedAt).toBe(first.startedAt);

    worker.child.kill('SIGKILL');
    await new Promise((resolve) => worker.child.once('exit', resolve));
    const killedAt = Date.now();
    const gone = await until('the worker to show as gone', async () => {
      const w = await workerOf(a, pid);
      return w?.state === 'gone' ? w : undefined;
    });
    // The bound: three missed heartbeats after the last one, which came at most one interval before the kill.
    expect(Date.now() - killedAt).toBeLessThanOrEqual((MISSED_HEARTBEATS + 1) * HEARTBEAT_MS + 1000);
    expect(Date.parse(gone.lastSeenAt)).toBeLessThanOrEqual(killedAt);
  });

  it('when a worker stops cleanly, then it leaves the registry', async () => {
    const a = (app = await openTestApp({}, {}, backend));
    const worker = startCli(['worker', '--data-dir', a.dataDir], workerEnv(a, backend));
    running.push(worker);
    const pid = worker.child.pid!;
    await until('the worker to register', () => workerOf(a, pid));
    expect(await worker.stop()).toBe(0);
    expect(await workerOf(a, pid)).toBeUndefined();
  });
});
