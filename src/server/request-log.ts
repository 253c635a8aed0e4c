import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';

// An incoming id is kept only if it is a plain token of reasonable length: it is echoed in a
// header and written to every log line of the request.
const CLIENT_ID = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;

/** Fastify's genReqId: the caller's `x-request-id` when it is a plain token, else a new UUID. */
export function requestId(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && CLIENT_ID.test(given) ? given : randomUUID();
}

/** Successful reads are what `--wait` and dashboards poll many times a second: debug, not info. */
function levelOf(method: string, status: number): 'debug' | 'info' | 'warn' | 'error' {
  if (status >= 500) return 'error';
  if ((method === 'GET' || method === 'HEAD') && status < 400) return 'debug';
  return 'info';
}

/** Every response carries its request id (`x-request-id`), the one its log lines carry. */
export function registerRequestId(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
  });
}

/**
 * One log line per request when it is answered: id, method, route, path, status and duration.
 * Fastify's own two lines per request are turned off where the server is built.
 */
export function registerRequestLog(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const level = levelOf(request.method, reply.statusCode);
    if (!(request.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(level)) return;
    const path = request.url.split('?', 1)[0];
    request.log[level](
      { method: request.method, route: request.routeOptions.url ?? null, path, statusCode: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100 },
      'request',
    );
  });
}
