import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Buildflow } from '../core/buildflow.js';
import { randomBytes } from 'node:crypto';
import { assertSecuritySettings, isStrongSecret } from '../core/customers/token-secret.js';
import { BuildflowError } from '../core/errors.js';
import { IDENTITY_HEADER, packageVersion } from '../core/package-info.js';
import { allow, registerAuth } from './auth.js';
import type { BuildflowMetrics } from './metrics/buildflow-metrics.js';
import { deploymentMetrics } from './metrics/deployment-metrics.js';
import { registerMetrics } from './metrics/metrics-route.js';
import type { SnapshotSource } from './metrics/snapshot-gauges.js';
import { registerRequestId, registerRequestLog, requestId } from './request-log.js';
import { coerceQuery } from './coerce-query.js';
import { registerErrorHandling } from './error-handler.js';
import { frameworkErrorOptions } from './framework-errors.js';
import { registerOpenApi } from './openapi.js';
import { adminRoutes } from './routes/admin.js';
import { pipelineRoutes } from './routes/pipeline.js';
import { healthRoutes } from './routes/health.js';
import { notificationRoutes } from './routes/notifications.js';
import { orderRoutes } from './routes/orders.js';
import { returnRoutes } from './routes/returns.js';
import { productRoutes } from './routes/products.js';
import { customerRoutes } from './routes/customers.js';
import { shipmentRoutes } from './routes/shipments.js';
import { adminStatsRoutes } from './routes/admin-stats.js';
import { StatsService } from '../core/stats/stats-service.js';
import { webhookRoutes } from './routes/webhooks.js';
import { DEFAULTS } from '../core/defaults.js';

export const DEFAULT_BODY_LIMIT = DEFAULTS.http.bodyLimitBytes;

export interface ServerOptions {
  /** Bearer key required by admin routes (at least 16 characters). */
  adminKey: string;
  /** Fastify's logger option; default off. */
  logger?: FastifyServerOptions['logger'];
  /** A logger to use as it is (pino); beats `logger`. */
  loggerInstance?: FastifyBaseLogger;
  /**
   * Where this process's metrics go and /metrics reads from; default a new set fed by the hooks
   * of `app.units` with the snapshot gauges (see deploymentMetrics). Pass one made by
   * deploymentMetrics to keep it beyond the server's life; `false` leaves metrics out altogether (no /metrics, no request
   * histogram), which only the intake benchmark's baseline wants.
   */
  metrics?: BuildflowMetrics | false;
  /** The snapshot behind GET /v1/admin/stats and the scrape-time gauges; default a StatsService of the server's own. */
  stats?: SnapshotSource;
  /** Bearer key that opens /metrics (besides the admin key); default `config.metrics.key`. */
  metricsKey?: string;
  /** The version buildflow_build_info reports; default the package version. */
  version?: string;
  /** Largest accepted request body in bytes; default {@link DEFAULT_BODY_LIMIT}. */
  bodyLimit?: number;
  /**
   * Key of the HMAC under which sign-in tokens are stored (see resolveTokenSecret); default
   * `config.tokenSecret`. In development a missing one is replaced by a random key for this
   * process; in production a missing or weak one is refused.
   */
  tokenSecret?: string;
  /** Bearer key a carrier uses for shipment updates; default `config.carrierKey`. */
  carrierKey?: string;
}

/**
 * Builds the HTTP API over an opened deployment, with every route, the error mapping and the
 * OpenAPI document registered. Never listens: the caller does (or uses `inject()` in tests).
 */
export async function buildServer(app: Buildflow, options: ServerOptions): Promise<FastifyInstance> {
  if (typeof options.adminKey !== 'string' || options.adminKey.length < 16) {
    throw new BuildflowError('CONFIG_INVALID', 'the admin key must be at least 16 characters');
  }
  const configured = options.tokenSecret ?? app.config.tokenSecret;
  assertSecuritySettings(app.config, configured);
  if (configured !== undefined && !isStrongSecret(configured)) {
    throw new BuildflowError('CONFIG_INVALID', 'the token secret is weak: use at least 32 varied characters');
  }
  const tokenSecret = configured ?? randomBytes(48).toString('base64url');
  const carrierKey = options.carrierKey ?? app.config.carrierKey;
  const metricsKey = options.metricsKey ?? app.config.metrics.key;
  // One snapshot per server, shared by GET /v1/admin/stats and the scrape-time gauges, so the
  // snapshot and its background stock-vs-ledger scan are not run twice in one process.
  const ownStats = options.stats ? undefined : new StatsService(app, { version: options.version ?? packageVersion() });
  const stats = options.stats ?? ownStats!;
  const owned = options.metrics !== undefined ? undefined : deploymentMetrics(app, { version: options.version ?? packageVersion(), stats });
  const metrics = options.metrics === undefined ? owned!.metrics : options.metrics;
  const logging = options.loggerInstance !== undefined || (options.logger !== undefined && options.logger !== false);
  const { connectionTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = app.config.http;
  const fastify = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.logger ?? false }),
    // One line per request, written by registerRequestLog, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...frameworkErrorOptions,
    connectionTimeout: connectionTimeoutMs,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    // Node enforces the request timeout on a periodic check (every 30 s by default), so a short
    // timeout would be applied up to 30 s late; check a few times per timeout instead.
    http: { connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(requestTimeoutMs / 4))) },
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
  // Every answer names the server, so a client can tell buildflow from whatever else holds a URL.
  const version = packageVersion();
  // Callback style: no promise per request on the intake path.
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.header(IDENTITY_HEADER, version);
    done();
  });
  registerRequestId(fastify);
  if (logging) registerRequestLog(fastify);
  registerErrorHandling(fastify);
  fastify.addHook('preValidation', coerceQuery);
  await registerOpenApi(fastify, version);

  registerAuth(fastify, { db: app.db, adminKey: options.adminKey, carrierKey, metricsKey, tokenSecret, perCustomerLimit: app.config.rateLimits.perCustomer });
  // Before the routes: the request histogram learns them as they are added.
  if (metrics) await registerMetrics(fastify, metrics, allow('admin', 'metrics'));
  fastify.addHook('onClose', async () => {
    await owned?.close();
    await ownStats?.close();
  });
  const routeOptions = { app, adminKey: options.adminKey, tokenSecret };
  await fastify.register(healthRoutes, routeOptions);
  await fastify.register(productRoutes, routeOptions);
  await fastify.register(orderRoutes, routeOptions);
  await fastify.register(returnRoutes, routeOptions);
  await fastify.register(notificationRoutes, routeOptions);
  await fastify.register(customerRoutes, routeOptions);
  await fastify.register(shipmentRoutes, routeOptions);
  await fastify.register(adminStatsRoutes, { ...routeOptions, stats });
  await fastify.register(webhookRoutes, routeOptions);
  await fastify.register(adminRoutes, routeOptions);
  await fastify.register(pipelineRoutes, routeOptions);
  return fastify;
}
