import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../core/config.js';
import { CliError } from '../../cli-error.js';
import { freePort, waitForHealthz } from '../../local-server.js';
import { BuildflowProcess, runBuildflow } from './process-set.js';

export type Backend = 'sqlite' | 'postgres' | 'postgres+redis';

export interface DeploymentOptions {
  backend: Backend;
  servers: number;
  /** Separate `worker` processes; 0 runs the workers inside `serve`. */
  workers: number;
  keep: boolean;
  databaseUrl?: string | undefined;
  redisUrl?: string | undefined;
  /** The caller's environment; its BUILDFLOW_* payment and pipeline settings pass through. */
  env: NodeJS.ProcessEnv;
}

// How long a started process has to answer /healthz.
const START_TIMEOUT_MS = 30_000;

/**
 * A deployment loadtest starts and owns: a temporary data directory, the database and Redis it
 * was given (with a fresh Redis key prefix), `servers` × `serve` and `workers` × `worker`
 * processes of this very package. Removed again by {@link stop} unless `keep`.
 */
export class Deployment {
  readonly adminKey = randomBytes(24).toString('base64url');
  readonly redisPrefix: string;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly servers: { port: number; process: BuildflowProcess }[] = [];
  /** Every process started, those killed by chaos included. */
  private readonly started: BuildflowProcess[] = [];
  readonly workers: BuildflowProcess[] = [];

  private constructor(readonly options: DeploymentOptions) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'buildflow-loadtest-'));
    this.redisPrefix = `buildflow-loadtest-${randomBytes(5).toString('hex')}`;
    const passed: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(options.env)) {
      // The deployment's own storage and keys are set below; the caller's would point elsewhere.
      if (['BUILDFLOW_DATA_DIR', 'BUILDFLOW_DATABASE_URL', 'BUILDFLOW_REDIS_URL', 'BUILDFLOW_REDIS_PREFIX', 'BUILDFLOW_PORT', 'BUILDFLOW_HOST', 'BUILDFLOW_ADMIN_KEY', 'BUILDFLOW_URL'].includes(k)) continue;
      passed[k] = v;
    }
    this.env = {
      ...passed,
      BUILDFLOW_DATA_DIR: this.dataDir,
      BUILDFLOW_ADMIN_KEY: this.adminKey,
      // Every serve process must accept the tokens another one issued.
      BUILDFLOW_TOKEN_SECRET: randomBytes(48).toString('base64url'),
      BUILDFLOW_ENV: 'development',
      BUILDFLOW_LOG_LEVEL: options.env.BUILDFLOW_LOG_LEVEL ?? 'warn',
      // A throwaway deployment: cheap sign-ups, and no per-customer limits that would cap the load.
      BUILDFLOW_SCRYPT_COST: '1024',
      BUILDFLOW_MAX_OPEN_ORDERS: '10000',
      BUILDFLOW_CUSTOMER_RATE_LIMIT: '100000000',
      BUILDFLOW_SIGNIN_LIMIT_PER_ADDRESS: '100000000',
      BUILDFLOW_SIGNIN_LIMIT_PER_ACCOUNT: '100000000',
      // A killed worker's claims come back in 2 s, and jobs a Redis flush lost are republished after 2 s.
      BUILDFLOW_WORKER_LEASE_MS: options.env.BUILDFLOW_WORKER_LEASE_MS ?? '2000',
      BUILDFLOW_REPUBLISH_AFTER_MS: options.env.BUILDFLOW_REPUBLISH_AFTER_MS ?? '2000',
      ...(options.databaseUrl ? { BUILDFLOW_DATABASE_URL: options.databaseUrl } : {}),
      ...(options.redisUrl ? { BUILDFLOW_REDIS_URL: options.redisUrl, BUILDFLOW_REDIS_PREFIX: this.redisPrefix } : {}),
    };
  }

  /** Migrates, seeds the bundled catalog and starts every process; fails (and cleans up) if one does not come up. */
  static async start(options: DeploymentOptions): Promise<Deployment> {
    if (options.backend !== 'sqlite' && !options.databaseUrl) throw new CliError('USAGE', `--backend ${options.backend} needs BUILDFLOW_DATABASE_URL`);
    if (options.backend === 'postgres+redis' && !options.redisUrl) throw new CliError('USAGE', '--backend postgres+redis needs BUILDFLOW_REDIS_URL');
    const d = new Deployment(options);
    try {
      await runBuildflow(['migrate'], d.env);
      await runBuildflow(['seed'], d.env);
      await Promise.all(Array.from({ length: options.servers }, () => d.startServer()));
      for (let i = 0; i < options.workers; i++) d.startWorker();
    } catch (err) {
      await d.stop();
      throw err instanceof CliError ? err : new CliError('INTERNAL', `cannot start the deployment: ${(err as Error).message}`);
    }
    return d;
  }

  get urls(): string[] {
    return this.servers.map((s) => `http://127.0.0.1:${s.port}`);
  }

  /** What `buildflow doctor` would read for this deployment. */
  async config(): Promise<Config> {
    const { loadConfig } = await import('../../../core/config.js');
    return loadConfig({}, this.env);
  }

  private async startServer(port?: number): Promise<void> {
    const p = port ?? (await freePort());
    const args = ['serve', '--port', String(p)];
    if (this.options.workers > 0) args.push('--no-worker');
    const process = new BuildflowProcess(args, this.env);
    this.started.push(process);
    const index = this.servers.findIndex((s) => s.port === p);
    if (index >= 0) this.servers[index] = { port: p, process };
    else this.servers.push({ port: p, process });
    await waitHealthy(`http://127.0.0.1:${p}`, process);
  }

  private startWorker(): BuildflowProcess {
    const w = new BuildflowProcess(['worker'], this.env);
    this.started.push(w);
    this.workers.push(w);
    return w;
  }

  /** SIGKILLs one worker process and starts another in its place. */
  async killWorker(pick: number): Promise<string> {
    const running = this.workers.filter((w) => w.running);
    if (running.length === 0) return 'no worker was running';
    const victim = running[pick % running.length]!;
    const pid = victim.child.pid;
    await victim.kill();
    this.workers.splice(this.workers.indexOf(victim), 1);
    const next = this.startWorker();
    return `killed worker pid ${pid}, started pid ${next.child.pid}`;
  }

  /** SIGKILLs one serve process and starts it again on the same port and data. */
  async killServer(pick: number): Promise<string> {
    const victim = this.servers[pick % this.servers.length]!;
    const pid = victim.process.child.pid;
    await victim.process.kill();
    await this.startServer(victim.port);
    return `killed serve pid ${pid} on port ${victim.port} and restarted it`;
  }

  /** Deletes every Redis key of this deployment (jobs, queues, cache). */
  async flushRedis(): Promise<string> {
    if (!this.options.redisUrl) return 'no Redis';
    const n = await deleteKeys(this.options.redisUrl, this.redisPrefix);
    return `deleted ${n} Redis keys under ${this.redisPrefix}:`;
  }

  /** The error-level lines every process of the deployment logged (the last few of each), named by command and pid. */
  errorLines(): string[] {
    return this.started.flatMap((p) => p.errors().map((line) => `${p.args[0]} ${p.child.pid}: ${line}`));
  }

  /** Stops every process (SIGTERM, then SIGKILL) and removes what it made, unless `keep`. */
  async stop(): Promise<void> {
    await Promise.all([...this.servers.map((s) => s.process.stop()), ...this.workers.map((w) => w.stop())]);
    if (this.options.keep) return;
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.options.redisUrl) await deleteKeys(this.options.redisUrl, this.redisPrefix).catch(() => 0);
  }
}

function waitHealthy(url: string, p: BuildflowProcess): Promise<void> {
  return waitForHealthz(url, {
    timeoutMs: START_TIMEOUT_MS,
    exitedWhy: () => (p.running ? undefined : `buildflow serve exited ${p.child.exitCode}: ${p.output().trim().split('\n').slice(-3).join(' | ')}`),
  });
}

async function deleteKeys(url: string, prefix: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
