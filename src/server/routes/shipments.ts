import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getTracking, requestShipmentUpdate } from '../../core/shipments/shipments.js';
import { BEARER_SECURITY, allow } from '../auth.js';
import { errorResponses } from '../schemas/common.js';
import { ShipmentParams, ShipmentUpdateAcceptedSchema, ShipmentUpdateBody, TrackingParams, TrackingViewSchema } from '../schemas/customers.js';
import type { RouteOptions } from './context.js';

const tags = ['shipments'];

export const shipmentRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  fastify.post('/v1/shipments/:trackingCode/status', {
    onRequest: allow('admin', 'carrier'),
    schema: {
      tags,
      summary: 'Report a shipment status change (admin or carrier key)',
      description:
        'pending → shipped → delivered, one step at a time. The update is checked against the current status and recorded ' +
        'with its outbox message in one transaction (202); a worker applies it, moves the order along and notifies the customer. ' +
        'A repeated, backwards or skipping update, or one while another is still being applied, answers 409 SHIPMENT_TRANSITION_INVALID.',
      security: BEARER_SECURITY,
      params: ShipmentParams,
      body: ShipmentUpdateBody,
      response: { 202: ShipmentUpdateAcceptedSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 500, 503) },
    },
    handler: async (request, reply) => {
      const accepted = await requestShipmentUpdate(app.units, request.params.trackingCode, request.body.status);
      return reply.code(202).send(accepted);
    },
  });

  fastify.get('/v1/tracking/:code', {
    schema: {
      tags,
      summary: 'Follow a shipment by its tracking code (public)',
      description: 'Only the shipment status and its history: nothing about the order or the customer.',
      params: TrackingParams,
      response: { 200: TrackingViewSchema, ...errorResponses(400, 404, 500, 503) },
    },
    handler: (request) => getTracking(app.db, request.params.code),
  });
};
