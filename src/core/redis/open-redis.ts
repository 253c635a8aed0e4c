import { Redis } from 'ioredis';
import { DEFAULTS } from '../defaults.js';

/**
 * An ioredis client for everything on Redis except bee-queue (which brings its own connection).
 * Commands fail fast while Redis is away instead of queueing without bound, so a caller can fall
 * back to the database; the client keeps reconnecting in the background.
 */
export function openRedis(url: string, onError: (err: Error) => void = () => {}, options: { commandTimeoutMs?: number } = {}): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: DEFAULTS.redis.connectTimeoutMs,
    // A slow Redis must not hold a request up: callers treat a timeout like a miss.
    commandTimeout: options.commandTimeoutMs ?? DEFAULTS.redis.commandTimeoutMs,
    retryStrategy: (times) => Math.min(DEFAULTS.redis.reconnectStepMs * times, DEFAULTS.redis.reconnectMaxMs),
  });
  // Without a listener an unreachable Redis would crash the process with an unhandled 'error'.
  client.on('error', onError);
  return client;
}
