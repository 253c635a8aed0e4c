import type { FastifyInstance } from 'fastify';
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
 */
export function registerDurableWrites(fastify: FastifyInstance, app: Buildflow): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (WRITES.has(request.method) && reply.statusCode < 400 && !request.routeOptions.config.alreadyDurable) await app.sync();
    return payload;
  });
}
