import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Buildflow } from '../core/buildflow.js';
import { BuildflowError } from '../core/errors.js';
import { coerceQuery } from './coerce-query.js';
import { registerErrorHandling } from './error-handler.js';
import { registerOpenApi } from './openapi.js';
import { healthRoutes } from './routes/health.js';
import { notificationRoutes } from './routes/notifications.js';
import { orderRoutes } from './routes/orders.js';
import { productRoutes } from './routes/products.js';

// Orders are at most BUILDFLOW_MAX_ITEMS (≤ 1000) short lines: 256 KiB leaves ample room.
export const DEFAULT_BODY_LIMIT = 256 * 1024;
const API_VERSION = '1.0.0';

export interface ServerOptions {
  /** Bearer key required by admin routes (at least 16 characters). */
  adminKey: string;
  /** Fastify's logger option; default off. */
  logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body in bytes; default {@link DEFAULT_BODY_LIMIT}. */
  bodyLimit?: number;
}

/**
 * Builds the HTTP API over an opened deployment, with every route, the error mapping and the
 * OpenAPI document registered. Never listens: the caller does (or uses `inject()` in tests).
 */
export async function buildServer(app: Buildflow, options: ServerOptions): Promise<FastifyInstance> {
  if (typeof options.adminKey !== 'string' || options.adminKey.length < 16) {
    throw new BuildflowError('CONFIG_INVALID', 'the admin key must be at least 16 characters');
  }
  const fastify = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ajv: {
      customOptions: {
        // Unknown fields are an error (additionalProperties: false), never silently dropped.
        removeAdditional: false,
        // One Ajv serves bodies and query strings; bodies must not be coerced ("2" is no quantity).
        // Query strings are converted strictly before validation by coerceQuery.
        coerceTypes: false,
        useDefaults: true,
        allErrors: false,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON is the only body this API reads; anything else (text/plain included) answers 415.
  fastify.removeContentTypeParser('text/plain');
  registerErrorHandling(fastify);
  fastify.addHook('preValidation', coerceQuery);
  await registerOpenApi(fastify, API_VERSION);

  const routeOptions = { app, adminKey: options.adminKey };
  await fastify.register(healthRoutes, routeOptions);
  await fastify.register(productRoutes, routeOptions);
  await fastify.register(orderRoutes, routeOptions);
  await fastify.register(notificationRoutes, routeOptions);
  return fastify;
}
