import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type onRequestHookHandler } from 'fastify';
import { ApiError } from '../api-error.js';
import { registerErrorHandling } from '../error-handler.js';
import { registerRequestId, registerRequestLog, requestId } from '../request-log.js';
import type { BuildflowMetrics } from './buildflow-metrics.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Admits `Authorization: Bearer <key>` for any of `keys` (compared hashed, in constant time). */
export function bearerKeys(keys: readonly (string | undefined)[]): onRequestHookHandler {
  const expected = keys.filter((k): k is string => typeof k === 'string' && k.length > 0).map(digest);
  return async (request) => {
    const match = BEARER.exec(request.headers.authorization ?? '');
    const given = match ? digest(match[1]!) : undefined;
    // Every key is compared, so the time taken does not say which one was close.
    let ok = false;
    for (const e of expected) if (given && timingSafeEqual(given, e)) ok = true;
    if (!ok) throw new ApiError('UNAUTHORIZED', 'the admin key or the metrics key is required: Authorization: Bearer <key>', { 'www-authenticate': 'Bearer' });
  };
}

export interface MetricsServerOptions {
  /** Keys that open /metrics: the admin key and BUILDFLOW_METRICS_KEY. */
  keys: readonly (string | undefined)[];
  loggerInstance?: FastifyBaseLogger;
}

/**
 * The HTTP server of a process that has no API (`buildflow worker`): GET /metrics behind the keys
 * and GET /healthz. Never listens by itself.
 */
export async function buildMetricsServer(metrics: BuildflowMetrics, options: MetricsServerOptions): Promise<FastifyInstance> {
  const fastify = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
  });
  registerRequestId(fastify);
  if (options.loggerInstance) registerRequestLog(fastify);
  registerErrorHandling(fastify);
  const auth = bearerKeys(options.keys);
  fastify.get('/metrics', { onRequest: auth }, async (_request, reply) => {
    const { contentType, text } = await metrics.exposition();
    return reply.type(contentType).send(text);
  });
  fastify.get('/healthz', async () => ({ status: 'ok' }));
  return fastify;
}
