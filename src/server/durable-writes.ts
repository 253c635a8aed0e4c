import type { FastifyInstance, onSendHookHandler } from 'fastify';
import type { Buildflow } from '../core/buildflow.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The use case behind this write route waits for durability itself. */
    alreadyDurable?: boolean;
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Route config of a write whose use case already waits for durability (order intake, cancel). */
export const ALREADY_DURABLE = { alreadyDurable: true } as const;

/**
 * No write is acknowledged before it is durable: a successful POST/PUT/PATCH/DELETE waits for
 * `app.sync()` (the WAL fsync) before its answer goes out, so a route cannot forget to. Routes
 * whose use case syncs itself say so with {@link ALREADY_DURABLE} and skip the extra fsync.
 *
 * The hook is attached to each write route as it is declared (register this before the routes),
 * so reads and the routes that sync themselves, order intake among them, pay nothing for it.
 */
export function registerDurableWrites(fastify: FastifyInstance, app: Buildflow): void {
  const waitForSync: onSendHookHandler = async (_request, reply, payload) => {
    if (reply.statusCode < 400) await app.sync();
    return payload;
  };
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.config?.alreadyDurable || !methods.some((m) => WRITES.has(m))) return;
    const own = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
    route.onSend = [waitForSync, ...own];
  });
}
