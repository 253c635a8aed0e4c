import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Histogram } from 'prom-client';
import type { Config } from '../../core/config.js';
import { HTTP_BUCKETS, HTTP_DURATION_NAME, type BuildflowMetrics } from './buildflow-metrics.js';

/** The backend cell of a deployment, as buildflow_build_info names it. */
export function backendCell(config: Config): string {
  if (!config.databaseUrl) return 'sqlite';
  return config.redis.url ? 'postgres+redis' : 'postgres';
}

const METRICS_SCHEMA = {
  tags: ['operations'],
  summary: 'Prometheus metrics of this process',
  description: 'Prometheus text exposition format (version 0.0.4). Admin key or BUILDFLOW_METRICS_KEY.',
  security: [{ bearerAuth: [] }],
};

type Child = ReturnType<Histogram<'method' | 'route' | 'status_code'>['labels']>;

/**
 * Measures every request to a registered route into buildflow_http_request_duration_seconds and
 * serves GET /metrics behind `auth`. One onResponse hook reading Fastify's own `elapsedTime`, with
 * the histogram's child for each method, route and status kept in a map: fastify-metrics 13 (which
 * fits Fastify 5 and Node 20) spends two hooks, a WeakMap entry, a timer closure and a label object
 * per request, about 3.5 µs of CPU against 1 µs for this in an interleaved microbenchmark, and
 * intake must keep 97 % of its rate with metrics on. Unmatched URLs (404s) are not measured, so a
 * scanner cannot grow the label set.
 */
export async function registerMetrics(fastify: FastifyInstance, metrics: BuildflowMetrics, auth: onRequestHookHandler): Promise<void> {
  // A second server over the same metrics (tests) starts the histogram again rather than failing on its name.
  metrics.registry.removeSingleMetric(HTTP_DURATION_NAME);
  const histogram = metrics.httpHistogram(HTTP_BUCKETS);
  const children = new Map<string, Child>();
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url;
    if (route === undefined) return;
    const status = reply.statusCode;
    const key = `${request.method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) children.set(key, (child = histogram.labels(request.method, route, String(status))));
    child.observe(reply.elapsedTime / 1000);
  });
  fastify.get('/metrics', { onRequest: auth, schema: METRICS_SCHEMA }, async (_request, reply) => {
    const { contentType, text } = await metrics.exposition();
    return reply.type(contentType).send(text);
  });
}
