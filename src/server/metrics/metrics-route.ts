import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import fastifyMetricsModule from 'fastify-metrics';
import promClient from 'prom-client';
import type { Config } from '../../core/config.js';
import { HTTP_BUCKETS, HTTP_DURATION_NAME, type BuildflowMetrics } from './buildflow-metrics.js';

// fastify-metrics is CommonJS with `exports.default`: imported from ESM, the plugin is that property.
const fastifyMetrics = fastifyMetricsModule.default;

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
  produces: ['text/plain'],
};

/**
 * Measures every registered route into buildflow_http_request_duration_seconds (fastify-metrics,
 * with buckets fine enough for intake) and serves GET /metrics behind `auth`. Register it before
 * the routes: fastify-metrics learns them as they are added.
 */
export async function registerMetrics(fastify: FastifyInstance, metrics: BuildflowMetrics, auth: onRequestHookHandler): Promise<void> {
  // A second server over the same metrics (tests) replaces the histogram rather than failing on its name.
  metrics.registry.removeSingleMetric(HTTP_DURATION_NAME);
  await fastify.register(fastifyMetrics, {
    endpoint: null,
    promClient,
    defaultMetrics: { enabled: false },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      overrides: {
        histogram: { name: HTTP_DURATION_NAME, help: 'HTTP requests by method, route pattern and status code, from arrival to response', buckets: HTTP_BUCKETS, registers: [metrics.registry] },
        // Turned off above, but made anyway: no registry, or the second server of a process would clash on its name.
        summary: { registers: [] },
      },
    },
  });
  fastify.get('/metrics', { onRequest: auth, schema: METRICS_SCHEMA }, async (_request, reply) => {
    const { contentType, text } = await metrics.exposition();
    return reply.type(contentType).send(text);
  });
}
