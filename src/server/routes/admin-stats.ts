import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BEARER_SECURITY, allow } from '../auth.js';
import { errorResponses } from '../schemas/common.js';
import { StatsSnapshotSchema } from '../schemas/stats.js';
import type { SnapshotSource } from '../metrics/snapshot-gauges.js';
import type { RouteOptions } from './context.js';

/** The snapshot comes from the server's one stats source (buildServer owns and closes it). */
export const adminStatsRoutes: FastifyPluginAsyncTypebox<RouteOptions & { stats: SnapshotSource }> = async (fastify, { stats }) => {

  fastify.get('/v1/admin/stats', {
    onRequest: allow('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Stats snapshot: queue depths per step, orders by status, counters, latency, workers, stock health (admin)',
      description:
        'Computed at most once per second; clients polling in between get the same snapshot. Counters are cumulative: take rates from the difference between two snapshots (or use `rates`). A `capped` figure is a lower bound.',
      security: BEARER_SECURITY,
      response: { 200: StatsSnapshotSchema, ...errorResponses(401, 403, 500, 503) },
    },
    handler: () => stats.snapshot(),
  });
};
