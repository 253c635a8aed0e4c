import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { patchOpenApi } from './openapi-patches.js';

/**
 * Registers the OpenAPI document (served at /openapi.json) and Swagger UI (at /docs). Must run
 * before the routes are registered: the document is collected from routes as they are added.
 */
export async function registerOpenApi(fastify: FastifyInstance, version: string): Promise<void> {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'buildflow',
        description: 'Order intake and catalog API. Errors always have the shape `{ "error": { "code", "message" } }`.',
        version,
      },
      tags: [
        { name: 'products', description: 'Catalog and stock' },
        { name: 'orders', description: 'Order intake and tracking' },
        { name: 'notifications', description: 'Messages sent to customers' },
        { name: 'customers', description: 'Sign-up, sign-in and customer administration' },
        { name: 'shipments', description: 'Carrier updates and public tracking' },
        { name: 'webhooks', description: 'Signed event deliveries to other systems' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'admin', description: 'Operating the deployment: stats, payments, stock against its ledger' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A customer token (POST /v1/auth/token), the admin key (BUILDFLOW_ADMIN_KEY or <data dir>/admin-key) or the carrier key' },
        },
      },
    },
    transformObject: (document) => patchOpenApi('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger());
}
