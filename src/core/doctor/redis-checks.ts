import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { openRedis } from '../redis/open-redis.js';
import { DoctorTimeoutError, errorLine, redactUrl, skipped, withTimeout, type CheckName, type DoctorCheck } from './check.js';
import { probeTcp, tcpAddress } from './tcp-probe.js';

/** PING as an inline command, for the probe before the client connects. */
const REDIS_PING = new TextEncoder().encode('PING\r\n');

/** The value of each setting that keeps queued jobs safe. */
const SAFE: Record<string, string> = { appendonly: 'yes', 'maxmemory-policy': 'noeviction' };

/** A Redis setting as read from the server, or why it could not be read. */
type Reading = { value: string; source: string } | { error: string };

/**
 * `redis`, `redis-persistence` and `redis-eviction`. Skipped when BUILDFLOW_REDIS_URL is unset
 * (the database outbox is the queue). When Redis is configured it is the queue, so settings that
 * lose queued jobs are failures, in development as in production: AOF off (a restart loses every
 * queued job) and any `maxmemory-policy` but `noeviction` (a full Redis deletes jobs). Settings are
 * read with CONFIG GET, falling back to INFO where CONFIG is refused (managed Redis); a setting
 * that can be read neither way is a warning. The port is probed before the client connects, and
 * every call is bounded by `timeoutMs`; never throws.
 */
export async function checkRedis(config: Config, timeoutMs: number): Promise<DoctorCheck[]> {
  const url = config.redis.url;
  if (!url) {
    const reason = 'Redis is not configured (BUILDFLOW_REDIS_URL unset): the database outbox is the queue';
    return [skipped('redis', reason), skipped('redis-persistence', 'Redis is not configured'), skipped('redis-eviction', 'Redis is not configured')];
  }
  const target = redactUrl(url);
  const unreachable = (why: string): DoctorCheck[] => [
    { name: 'redis', status: 'fail', detail: `cannot connect to Redis at ${target}: ${why} (check BUILDFLOW_REDIS_URL and that Redis is up)`, data: { url: target } },
    skipped('redis-persistence', 'there is no connection to Redis'),
    skipped('redis-eviction', 'there is no connection to Redis'),
  ];
  // A refused or silent port fails here, before ioredis starts timers that outlive the report.
  // Any answer to a plain PING will do (NOAUTH too); over TLS only the connection can be probed.
  const address = tcpAddress(url, 6379);
  if (address) {
    try {
      await probeTcp(address.host, address.port, timeoutMs, url.startsWith('rediss:') ? undefined : REDIS_PING);
    } catch (err) {
      return unreachable(errorLine(err));
    }
  }
  let lastError: Error | undefined;
  const client = openRedis(url, (err) => (lastError = err));
  try {
    const started = Date.now();
    try {
      await withTimeout(client.ping(), timeoutMs, `Redis at ${target}`);
    } catch (err) {
      // A reply from the server (NOAUTH, WRONGPASS) says it best; otherwise ioredis reports only
      // that it gave up retrying, and the connection error it emitted says why.
      return unreachable((err as Error).name === 'ReplyError' ? errorLine(err) : errorLine(lastError ?? err));
    }
    const latencyMs = Date.now() - started;
    const reachable: DoctorCheck = { name: 'redis', status: 'ok', detail: `Redis reachable at ${target} (PING ${latencyMs} ms)`, data: { url: target, latencyMs } };

    const aof = await readSetting(client, { config: 'appendonly', section: 'persistence', field: 'aof_enabled' }, timeoutMs);
    const persistence = judge('redis-persistence', aof, 'appendonly', (value) => {
      const on = value === 'yes';
      return on
        ? { status: 'ok', detail: 'Redis appendonly is on: queued jobs survive a Redis restart' }
        : { status: 'fail', detail: 'Redis appendonly is off: a Redis restart loses queued jobs; set appendonly yes (CONFIG SET appendonly yes, and in redis.conf)' };
    });

    const policy = await readSetting(client, { config: 'maxmemory-policy', section: 'memory', field: 'maxmemory_policy' }, timeoutMs);
    const eviction = judge('redis-eviction', policy, 'maxmemory-policy', (value) =>
      value === 'noeviction'
        ? { status: 'ok', detail: 'Redis maxmemory-policy is noeviction: a full Redis refuses writes instead of dropping queued jobs' }
        : {
            status: 'fail',
            detail: `Redis maxmemory-policy is ${value}: when memory runs out Redis evicts keys, queued jobs among them; set maxmemory-policy noeviction`,
          },
    );
    return [reachable, persistence, eviction];
  } finally {
    await closeRedis(client, timeoutMs);
  }
}

function judge(
  name: CheckName,
  reading: Reading,
  setting: string,
  rule: (value: string) => { status: 'ok' | 'fail'; detail: string },
): DoctorCheck {
  if ('error' in reading) {
    return {
      name,
      status: 'warn',
      detail: `cannot read Redis ${setting} (${reading.error}): make sure ${setting} is ${SAFE[setting]} in the server's (or the provider's) settings`,
      data: { error: reading.error },
    };
  }
  // INFO spells appendonly as aof_enabled 0/1; report it as CONFIG would.
  const value = setting === 'appendonly' && reading.source.startsWith('INFO') ? (reading.value === '1' ? 'yes' : 'no') : reading.value;
  return { name, ...rule(value), data: { [setting]: value, source: reading.source } };
}

/** Reads a setting with CONFIG GET, else from its INFO section (managed Redis often refuses CONFIG). */
async function readSetting(client: Redis, s: { config: string; section: string; field: string }, timeoutMs: number): Promise<Reading> {
  let configError: string;
  try {
    const reply = await withTimeout(client.config('GET', s.config), timeoutMs, 'CONFIG GET');
    if (Array.isArray(reply) && reply.length >= 2) return { value: String(reply[1]), source: 'CONFIG GET' };
    configError = `CONFIG GET ${s.config} returned nothing`;
  } catch (err) {
    // A server too slow for CONFIG GET is too slow for INFO: do not wait twice.
    if (err instanceof DoctorTimeoutError) return { error: errorLine(err) };
    configError = `CONFIG GET refused: ${errorLine(err)}`;
  }
  try {
    const info = await withTimeout(client.info(s.section), timeoutMs, `INFO ${s.section}`);
    const match = new RegExp(`^${s.field}:(.*)$`, 'm').exec(info);
    if (match) return { value: match[1]!.trim(), source: `INFO ${s.section}` };
    return { error: `${configError}; INFO ${s.section} has no ${s.field}` };
  } catch (err) {
    return { error: `${configError}; INFO ${s.section} refused: ${errorLine(err)}` };
  }
}

async function closeRedis(client: Redis, timeoutMs: number): Promise<void> {
  try {
    if (client.status === 'ready') await withTimeout(client.quit(), timeoutMs, 'QUIT');
  } catch {
    // closing below regardless
  } finally {
    // Stops the reconnect loop of a client that never connected.
    client.disconnect();
  }
}
