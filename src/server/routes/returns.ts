import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BEARER_SECURITY, allow, orderScope } from '../auth.js';
import { errorResponses } from '../schemas/common.js';
import { OrderIdParams } from '../schemas/orders.js';
import { ReceiveBody, ReturnBody, ReturnHeaders, ReturnIdParams, ReturnSchema, ReturnsResponse } from '../schemas/returns.js';
import type { RouteOptions } from './context.js';
import { orderRecordsRoute } from './order-records.js';
import { requestReturn } from '../../core/returns/request-return.js';
import { receiveReturn } from '../../core/returns/receive-return.js';
import { listReturns } from '../../core/returns/return-view.js';

const tags = ['orders'];
const security = BEARER_SECURITY;

export const returnRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  fastify.post('/v1/orders/:id/returns', {
    onRequest: allow('customer', 'admin'),
    schema: {
      tags,
      security,
      summary: 'Ask to return lines of a shipped or delivered order',
      description:
        `A customer for their own order, within BUILDFLOW_RETURN_WINDOW_DAYS (${app.config.returnWindowDays}) days of its delivery ` +
        '(or shipment, while undelivered); the admin for any. Several returns per order, never more of a sku than bought less what ' +
        'earlier returns asked back: 409 `RETURN_EXCEEDS_PURCHASED` names the sku and both quantities. Another status: 409 ' +
        '`RETURN_NOT_ALLOWED`; past the window: 409 `RETURN_WINDOW_CLOSED`. Nothing is refunded until the return is received. ' +
        'With an `Idempotency-Key`, a retry with the same body answers the return already asked (header `Idempotent-Replayed: true`); ' +
        'another body under it answers 422 `IDEMPOTENCY_KEY_REUSED`.',
      headers: ReturnHeaders,
      params: OrderIdParams,
      body: ReturnBody,
      response: { 201: ReturnSchema, ...errorResponses(400, 401, 403, 404, 409, 415, 422, 500, 503) },
    },
    handler: async (request, reply) => {
      const admin = request.caller.kind === 'admin';
      const scope = orderScope(request);
      const idempotencyKey = request.headers['idempotency-key'];
      const { created, replayed } = await requestReturn(app.units, request.params.id, { ...request.body, ...(idempotencyKey ? { idempotencyKey } : {}) }, {
        by: admin ? 'admin' : 'customer',
        windowDays: app.config.returnWindowDays,
        ...(scope ? { scope } : {}),
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(created);
    },
  });

  orderRecordsRoute(fastify, {
    url: '/v1/orders/:id/returns',
    summary: "An order's returns, oldest first",
    response: ReturnsResponse,
    list: (idOrReference, scope) => listReturns(app.db, idOrReference, scope),
  });

  fastify.post('/v1/returns/:id/receive', {
    onRequest: allow('admin'),
    schema: {
      tags,
      security,
      summary: 'Receive a return (admin): restock what can be resold, refund what arrived',
      description:
        'Per line of the return: how many arrived and whether they go back on hand (a `return` stock movement). The received ' +
        "lines' price is refunded through the payment ledger (one refund row, asked of the provider by a worker). A return is " +
        'received once: again answers 409 `RETURN_ALREADY_RECEIVED`; more of a line than the return asks, 409 `RETURN_EXCEEDS_PURCHASED`.',
      params: ReturnIdParams,
      body: ReceiveBody,
      response: { 200: ReturnSchema, ...errorResponses(400, 401, 403, 404, 409, 415, 500, 503) },
    },
    handler: (request) => receiveReturn(app.units, request.params.id, request.body.items),
  });
};
