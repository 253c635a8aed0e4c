import { CliError } from '../../cli-error.js';
import type { ChaosEvent } from './chaos-events.js';
import type { Deployment } from './deployment.js';
import { parseDurationMs } from '../units.js';

export type ChaosSpec = { kind: 'worker-kill'; everyMs: number } | { kind: 'server-kill' } | { kind: 'redis-flush' };

const DEFAULT_WORKER_KILL_EVERY_MS = 5_000;

/** Parses `worker-kill[:every=5s]`, `server-kill`, `redis-flush`. */
export function parseChaos(spec: string): ChaosSpec {
  const [kind, ...params] = spec.trim().split(':');
  const options = new Map(params.flatMap((p) => p.split(',')).map((p) => p.split('=') as [string, string | undefined]));
  const unknown = (allowed: string[]) => [...options.keys()].filter((k) => !allowed.includes(k));
  switch (kind) {
    case 'worker-kill': {
      if (unknown(['every']).length > 0) throw new CliError('USAGE', `--chaos ${spec}: worker-kill takes only every=DURATION`);
      const every = options.get('every');
      const everyMs = every === undefined ? DEFAULT_WORKER_KILL_EVERY_MS : parseDurationMs(every);
      if (everyMs === undefined || everyMs < 100) throw new CliError('USAGE', `--chaos ${spec}: every must be a duration of at least 100ms, e.g. every=5s`);
      return { kind, everyMs };
    }
    case 'server-kill':
    case 'redis-flush':
      if (options.size > 0) throw new CliError('USAGE', `--chaos ${spec}: ${kind} takes no options`);
      return { kind };
    default:
      throw new CliError('USAGE', `--chaos ${spec}: unknown chaos (worker-kill[:every=5s], server-kill, redis-flush)`);
  }
}

/**
 * Runs the chaos against a deployment loadtest started, while the load runs: worker kills every
 * `everyMs` (the first after at most half the run), one server kill at 40% of the run and one
 * Redis flush at half of it. Actions never overlap; `stop` waits for the one in progress.
 */
export function startChaos(deployment: Deployment, specs: readonly ChaosSpec[], runMs: number): { stop(): Promise<ChaosEvent[]> } {
  const events: ChaosEvent[] = [];
  const timers: NodeJS.Timeout[] = [];
  let chain = Promise.resolve();
  let stopped = false;
  let n = 0;
  const act = (kind: ChaosEvent['kind'], action: () => Promise<string>) => {
    chain = chain.then(async () => {
      if (stopped) return;
      const at = Date.now();
      const event: ChaosEvent = { kind, at, detail: '' };
      events.push(event);
      try {
        event.detail = await action();
      } catch (err) {
        event.detail = `failed: ${(err as Error).message}`;
      }
      event.recoveredAt = Date.now();
    });
  };
  for (const spec of specs) {
    if (spec.kind === 'worker-kill') {
      const first = Math.min(spec.everyMs, runMs / 2);
      const schedule = (delay: number) =>
        timers.push(
          setTimeout(() => {
            act('worker-kill', () => deployment.killWorker(n++));
            schedule(spec.everyMs);
          }, delay),
        );
      schedule(first);
    } else if (spec.kind === 'server-kill') {
      timers.push(setTimeout(() => act('server-kill', () => deployment.killServer(n++)), runMs * 0.4));
    } else {
      timers.push(setTimeout(() => act('redis-flush', () => deployment.flushRedis()), runMs * 0.5));
    }
  }
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await chain;
      return events;
    },
  };
}
