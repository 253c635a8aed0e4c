import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createEndpoint, getEndpoint, listEndpoints, removeEndpoint, rotateSecret, updateEndpoint } from '../../core/webhooks/endpoints.js';
import { getDelivery, listDeliveries, replayDelivery, replayFailed } from '../../core/webhooks/delivery-log.js';
import { ADMIN_SECURITY, adminAuth } from '../admin-auth.js';
import { PageOf, PageQuery, errorResponses } from '../schemas/common.js';
import {
  CreateWebhookBody,
  DeliveryParams,
  DeliverySchema,
  ListDeliveriesQuery,
  ReplayBody,
  ReplayedSchema,
  UpdateWebhookBody,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
  WebhookIdParams,
} from '../schemas/webhooks.js';
import type { RouteOptions } from './context.js';

const tags = ['webhooks'];
const security = ADMIN_SECURITY;

export const webhookRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app, adminKey }) => {
  // Every route here is the admin's: one hook for the plugin, so a route added later cannot go unguarded.
  fastify.addHook('onRequest', adminAuth(adminKey));
  const policy = { allowPrivate: app.config.webhooks.allowPrivate };

  fastify.post('/v1/webhooks', {
    schema: {
      tags,
      summary: 'Register a webhook endpoint (admin)',
      description:
        'Events are POSTed with Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature). The URL must be http(s) ' +
        'and its host must not resolve to a loopback, private, link-local or metadata address (WEBHOOK_URL_FORBIDDEN) unless ' +
        'BUILDFLOW_WEBHOOK_ALLOW_PRIVATE=1. The `whsec_` secret is shown in this response only.',
      security,
      body: CreateWebhookBody,
      response: { 201: WebhookEndpointWithSecretSchema, ...errorResponses(400, 401, 413, 415, 500, 503) },
    },
    handler: async (request, reply) => reply.code(201).send(await createEndpoint(app.units, request.body, policy)),
  });

  fastify.get('/v1/webhooks', {
    schema: { tags, summary: 'List webhook endpoints, oldest first (admin)', security, querystring: PageQuery, response: { 200: PageOf(WebhookEndpointSchema), ...errorResponses(400, 401, 500, 503) } },
    handler: (request) => listEndpoints(app.db, request.query),
  });

  fastify.get('/v1/webhooks/:id', {
    schema: { tags, summary: 'Get a webhook endpoint (admin)', security, params: WebhookIdParams, response: { 200: WebhookEndpointSchema, ...errorResponses(400, 401, 404, 500, 503) } },
    handler: (request) => getEndpoint(app.db, request.params.id),
  });

  fastify.patch('/v1/webhooks/:id', {
    schema: {
      tags,
      summary: 'Change a webhook endpoint: url, events, description, threshold, enabled (admin)',
      security,
      params: WebhookIdParams,
      body: UpdateWebhookBody,
      response: { 200: WebhookEndpointSchema, ...errorResponses(400, 401, 404, 413, 415, 500, 503) },
    },
    handler: (request) => updateEndpoint(app.units, request.params.id, request.body, policy),
  });

  fastify.delete('/v1/webhooks/:id', {
    schema: {
      tags,
      summary: 'Remove a webhook endpoint with its deliveries (admin)',
      security,
      params: WebhookIdParams,
      response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses(400, 401, 404, 500, 503) },
    },
    handler: async (request, reply) => {
      await removeEndpoint(app.units, request.params.id);
      return reply.code(204).send();
    },
  });

  fastify.post('/v1/webhooks/:id/rotate', {
    schema: {
      tags,
      summary: 'Rotate the signing secret (admin)',
      description: 'Returns the new secret (shown only here). For 24 hours deliveries carry two signatures, one per secret.',
      security,
      params: WebhookIdParams,
      response: { 200: WebhookEndpointWithSecretSchema, ...errorResponses(400, 401, 404, 500, 503) },
    },
    handler: (request) => rotateSecret(app.units, request.params.id),
  });

  fastify.get('/v1/webhooks/:id/deliveries', {
    schema: {
      tags,
      summary: 'Deliveries of an endpoint, newest first, each with every attempt (admin)',
      security,
      params: WebhookIdParams,
      querystring: ListDeliveriesQuery,
      response: { 200: PageOf(DeliverySchema), ...errorResponses(400, 401, 404, 500, 503) },
    },
    handler: (request) => listDeliveries(app.db, request.params.id, request.query),
  });

  fastify.get('/v1/webhooks/:id/deliveries/:deliveryId', {
    schema: { tags, summary: 'One delivery with its attempts (admin)', security, params: DeliveryParams, response: { 200: DeliverySchema, ...errorResponses(400, 401, 404, 500, 503) } },
    handler: (request) => getDelivery(app.db, request.params.id, request.params.deliveryId),
  });

  fastify.post('/v1/webhooks/:id/deliveries/:deliveryId/replay', {
    schema: {
      tags,
      summary: 'Send a delivery again, with a fresh round of attempts and the same webhook-id (admin)',
      security,
      params: DeliveryParams,
      response: { 202: DeliverySchema, ...errorResponses(400, 401, 404, 500, 503) },
    },
    handler: async (request, reply) => reply.code(202).send(await replayDelivery(app.units, request.params.id, request.params.deliveryId)),
  });

  fastify.post('/v1/webhooks/:id/replay', {
    schema: {
      tags,
      summary: 'Replay every dead delivery of an endpoint since a time (admin)',
      security,
      params: WebhookIdParams,
      body: ReplayBody,
      response: { 202: ReplayedSchema, ...errorResponses(400, 401, 404, 413, 415, 500, 503) },
    },
    handler: async (request, reply) => reply.code(202).send({ replayed: await replayFailed(app.units, request.params.id, Date.parse(request.body.since)) }),
  });
};
