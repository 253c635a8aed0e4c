import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { StatsService } from '../../core/stats/stats-service.js';
import { BEARER_SECURITY, allow } from '../auth.js';
import { errorResponses } from '../schemas/common.js';
import { StatsSnapshotSchema } from '../schemas/stats.js';
import type { RouteOptions } from './context.js';

export const adminStatsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  const stats = new StatsService(app);
  fastify.addHook('onClose', () => stats.close());

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
