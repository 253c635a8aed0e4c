import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { orderHistory, getOrder, listOrders } from '../../core/orders/queries.js';
import { PageOf, errorResponses } from '../schemas/common.js';
import { HistoryResponse, IdempotencyHeaders, ListOrdersQuery, OrderIdParams, OrderViewSchema, createOrderBody } from '../schemas/orders.js';
import type { RouteOptions } from './context.js';

const tags = ['orders'];

export const orderRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  fastify.post('/v1/orders', {
    schema: {
      tags,
      summary: 'Place an order',
      description:
        'Prices and the total come from the catalog. With an `Idempotency-Key`, a retry with the same body answers the stored order ' +
        '(header `Idempotent-Replayed: true`); the same key with a different body answers 422 IDEMPOTENCY_KEY_REUSED.',
      headers: IdempotencyHeaders,
      body: createOrderBody(app.config.maxItemsPerOrder),
      response: { 201: OrderViewSchema, ...errorResponses(400, 409, 413, 415, 422, 500) },
    },
    handler: async (request, reply) => {
      const idempotencyKey = request.headers['idempotency-key'];
      const { order, replayed } = await app.placeOrder({ items: request.body.items, ...(idempotencyKey ? { idempotencyKey } : {}) });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).header('location', `/v1/orders/${order.id}`).send(order);
    },
  });

  fastify.get('/v1/orders', {
    schema: {
      tags,
      summary: 'List orders, newest first, optionally of one status',
      querystring: ListOrdersQuery,
      response: { 200: PageOf(OrderViewSchema), ...errorResponses(400, 500) },
    },
    handler: (request) => listOrders(app.db, request.query),
  });

  fastify.get('/v1/orders/:id', {
    schema: {
      tags,
      summary: 'Get one order by id or reference',
      params: OrderIdParams,
      response: { 200: OrderViewSchema, ...errorResponses(400, 404, 500) },
    },
    handler: (request) => getOrder(app.db, request.params.id),
  });

  fastify.post('/v1/orders/:id/cancel', {
    schema: {
      tags,
      summary: 'Cancel an order before payment has started',
      params: OrderIdParams,
      response: { 200: OrderViewSchema, ...errorResponses(400, 404, 409, 500) },
    },
    handler: (request) => app.cancelOrder(request.params.id),
  });

  fastify.get('/v1/orders/:id/history', {
    schema: {
      tags,
      summary: "An order's status transitions, oldest first",
      params: OrderIdParams,
      response: { 200: HistoryResponse, ...errorResponses(400, 404, 500) },
    },
    handler: async (request) => ({ items: await orderHistory(app.db, request.params.id) }),
  });
};
