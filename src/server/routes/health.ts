import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pendingMigrations } from '../../core/db/migrate.js';
import { BuildflowError } from '../../core/errors.js';
import { errorLine, redactUrl } from '../../core/doctor/check.js';
import { StrictObject, errorResponses } from '../schemas/common.js';
import type { RouteOptions } from './context.js';

const tags = ['health'];

/** A configured Redis that does not answer PING within this is not ready. */
const READY_REDIS_TIMEOUT_MS = 500;
const Status = StrictObject({ status: Type.Literal('ok') });

export const healthRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  fastify.get('/healthz', {
    schema: { tags, summary: 'Liveness: the process answers', response: { 200: Status } },
    handler: async () => ({ status: 'ok' as const }),
  });

  fastify.get('/readyz', {
    schema: {
      tags,
      summary: 'Readiness: the database answers and has every migration applied, and a configured Redis answers',
      response: { 200: Status, ...errorResponses(503) },
    },
    handler: async (request) => {
      let pending: string[];
      try {
        pending = await pendingMigrations(app.db);
      } catch (err) {
        request.log.warn({ err }, 'readiness check: database did not answer');
        throw new BuildflowError('UNAVAILABLE', 'the database does not answer');
      }
      if (pending.length > 0) {
        throw new BuildflowError('UNAVAILABLE', `the database has ${pending.length} pending migration(s)`);
      }
      const redisUrl = app.config.redis.url;
      if (redisUrl) {
        try {
          await app.cache.ping(READY_REDIS_TIMEOUT_MS);
        } catch (err) {
          throw new BuildflowError('UNAVAILABLE', `Redis at ${redactUrl(redisUrl)} does not answer: ${errorLine(err)}`);
        }
      }
      return { status: 'ok' as const };
    },
  });
};
