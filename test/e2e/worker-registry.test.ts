import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, TEST_REDIS_URL, usesRedis } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { assertBuilt, startCli, type RunningProcess } from '../cli/harness.js';
import { listWorkers, MISSED_HEARTBEATS } from '../../src/core/workers/worker-registry.js';
import type { WorkerStats } from '../../src/core/stats/snapshot-types.js';
import { loadConfig } from '../../src/core/config.js';
import { runDoctor, type DoctorReport } from '../../src/core/doctor/run-doctor.js';
import { StatsService } from '../../src/core/stats/stats-service.js';
import { deploymentMetrics } from '../../src/server/metrics/deployment-metrics.js';
import { alertsOf, EMPTY_DATA, withSnapshot } from '../../src/cli/dashboard/dashboard-model.js';
import { parseExposition, sampleValue } from '../helpers/prometheus.js';

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

const workersCheck = (r: DoctorReport) => r.checks.find((c) => c.name === 'workers')!;

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
  it('when the only worker is SIGKILLed with work waiting, then doctor and the dashboard fail at once naming it; restarted, both clear and buildflow_workers{state="gone"} is 0', async () => {
    // The test Redis runs without AOF, which this deployment accepts: doctor and the dashboard both honour it.
    const a = (app = await openTestApp({ BUILDFLOW_ACCEPT: 'redis-persistence' }, {}, backend));
    await addProduct(a, 'A', 100);
    const config = loadConfig(
      {
        BUILDFLOW_DATA_DIR: a.dataDir,
        BUILDFLOW_DATABASE_URL: a.config.databaseUrl,
        BUILDFLOW_REDIS_URL: a.config.redis.url,
        BUILDFLOW_REDIS_PREFIX: a.config.redis.prefix,
        BUILDFLOW_ACCEPT: 'redis-persistence',
      },
      {},
    );
    const stats = new StatsService(a, { minIntervalMs: 0 });
    const observed = deploymentMetrics(a, { version: 'test', stats });
    try {
      const first = startCli(['worker', '--data-dir', a.dataDir], workerEnv(a, backend));
      running.push(first);
      const registered = await until('the worker to register', () => workerOf(a, first.child.pid!));
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      const killedAt = Date.now();
      for (let i = 0; i < 3; i++) await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });

      const failing = await until('doctor to fail on workers', async () => {
        const report = await runDoctor(config);
        return report.checks.find((c) => c.name === 'workers')?.status === 'fail' ? report : undefined;
      });
      expect(Date.now() - killedAt).toBeLessThanOrEqual((MISSED_HEARTBEATS + 1) * HEARTBEAT_MS + 2000);
      expect(failing.healthy).toBe(false);
      expect(workersCheck(failing).detail).toContain(`gone: ${registered.id} (`);
      expect(workersCheck(failing).detail).toMatch(/^3 pipeline messages due and no live worker takes them \(role (steps|relay);/);
      // The dashboard says the same from the snapshot, at the same moment.
      const down = await stats.snapshot();
      expect(down.unattended.map((u) => u.role)).toEqual(usesRedis(backend) ? ['steps', 'relay'] : ['steps']);
      expect(alertsOf(withSnapshot(EMPTY_DATA, down, Date.now()), Date.now())[0]).toMatchObject({ level: 'error', short: expect.stringMatching(/^no (steps|relay) worker$/) });

      const second = startCli(['worker', '--data-dir', a.dataDir], workerEnv(a, backend));
      running.push(second);
      await until('the restarted worker to register', () => workerOf(a, second.child.pid!));
      const healthy = await until('doctor to pass', async () => {
        const report = await runDoctor(config);
        return report.healthy && workersCheck(report).status === 'ok' ? report : undefined;
      });
      expect(workersCheck(healthy).detail).toMatch(/^1 worker alive \(/);
      const up = await stats.snapshot();
      expect(up.unattended).toEqual([]);
      expect(up.workers.map((w) => w.state)).toEqual(['alive']);
      expect(alertsOf(withSnapshot(EMPTY_DATA, up, Date.now()), Date.now()).filter((x) => x.level === 'error' || /gone/.test(x.text))).toEqual([]);
      if (usesRedis(backend)) {
        await stats.settled();
        const persistence = (await stats.snapshot()).settings.checks.find((c) => c.name === 'redis-persistence');
        expect(persistence?.status === 'ok' || persistence?.accepted).toBe(true);
      }
      const families = parseExposition(await observed.metrics.registry.metrics());
      expect(sampleValue(families, 'buildflow_workers', { state: 'gone' })).toBe(0);
      expect(sampleValue(families, 'buildflow_workers', { state: 'alive' })).toBe(1);
      expect(sampleValue(families, 'buildflow_work_unattended', { role: 'steps' })).toBe(0);
    } finally {
      await observed.close();
      await stats.close();
    }
  });
});
