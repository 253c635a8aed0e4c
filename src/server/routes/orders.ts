import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { orderHistory, getOrder, listOrders } from '../../core/orders/queries.js';
import { orderTrace } from '../../core/orders/trace.js';
import { TraceResponse } from '../schemas/pipeline.js';
import { getCustomer } from '../../core/customers/customers.js';
import { cancelOrder } from '../../core/cancellation/cancel-order.js';
import { ADMIN_CANCELLABLE, customerCancellable } from '../../core/domain/order-status.js';
import { ApiError } from '../api-error.js';
import { BuildflowError } from '../../core/errors.js';
import { BEARER_SECURITY, allow, orderScope } from '../auth.js';
import { PageOf, errorResponses } from '../schemas/common.js';
import { CreateOrderQuery, HistoryResponse, IdempotencyHeaders, ListOrdersQuery, OrderIdParams, OrderViewSchema, createOrderBody } from '../schemas/orders.js';
import type { RouteOptions } from './context.js';
import { orderRecordsRoute } from './order-records.js';
import { listLedger, requestRefund } from '../../core/payments/refunds.js';
import { LedgerEntrySchema, LedgerResponse, RefundBody, RefundHeaders } from '../schemas/payments.js';

const tags = ['orders'];
const security = BEARER_SECURITY;

export const orderRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  // Every order route takes a customer token (own orders only) or the admin key (all orders).
  const onRequest = allow('customer', 'admin');

  fastify.post('/v1/orders', {
    onRequest,
    schema: {
      tags,
      summary: 'Place an order',
      description:
        'Prices and the total come from the catalog; the owner is the signed-in customer. The admin may place an order on behalf ' +
        'of a customer with `?customerId=` (only the admin: a customer gets 403), or an unowned one without it. ' +
        `A customer may hold at most BUILDFLOW_MAX_OPEN_ORDERS (${app.config.maxOpenOrders}) orders in pending/reserved (409 TOO_MANY_OPEN_ORDERS). ` +
        'With an `Idempotency-Key`, a retry with the same body answers the stored order ' +
        '(header `Idempotent-Replayed: true`); the same key with a different body answers 422 IDEMPOTENCY_KEY_REUSED.',
      security,
      headers: IdempotencyHeaders,
      querystring: CreateOrderQuery,
      body: createOrderBody(app.config.maxItemsPerOrder),
      response: { 201: OrderViewSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 500, 503) },
    },
    handler: async (request, reply) => {
      const idempotencyKey = request.headers['idempotency-key'];
      const caller = request.caller;
      let customerId: string | undefined;
      if (caller.kind === 'customer') {
        if (request.query.customerId !== undefined) throw new ApiError('FORBIDDEN', 'only the admin may place an order on behalf of a customer');
        customerId = caller.customerId;
      } else if (request.query.customerId !== undefined) {
        const customer = await getCustomer(app.db, request.query.customerId);
        if (customer.disabled) throw new ApiError('FORBIDDEN', `customer ${customer.id} is disabled`);
        customerId = customer.id;
      }
      const placed = await app.placeOrder({
        items: request.body.items,
        ...(idempotencyKey ? { idempotencyKey } : {}),
        ...(customerId ? { customerId, maxOpenOrders: app.config.maxOpenOrders } : {}),
      });
      if (placed.replayed) reply.header('idempotent-replayed', 'true');
      // The order's JSON was made where it was written; Fastify sends a JSON string as it is,
      // which the typed reply (it expects the view object) does not express.
      const untyped: FastifyReply = reply;
      return untyped.code(201).header('location', `/v1/orders/${placed.id}`).type('application/json; charset=utf-8').send(placed.json);
    },
  });

  fastify.get('/v1/orders', {
    onRequest,
    schema: {
      tags,
      security,
      summary: 'List orders, newest first, optionally of one status',
      querystring: ListOrdersQuery,
      response: { 200: PageOf(OrderViewSchema), ...errorResponses(400, 401, 403, 500, 503) },
    },
    handler: (request) => listOrders(app.db, request.query, orderScope(request)),
  });

  fastify.get('/v1/orders/:id', {
    onRequest,
    schema: {
      tags,
      security,
      summary: 'Get one order by id or reference',
      params: OrderIdParams,
      response: { 200: OrderViewSchema, ...errorResponses(400, 401, 403, 404, 500, 503) },
    },
    handler: (request) => getOrder(app.db, request.params.id, orderScope(request)),
  });

  fastify.post('/v1/orders/:id/cancel', {
    onRequest,
    schema: {
      tags,
      security,
      summary: 'Cancel an order',
      description:
        'The admin may cancel any order that has not shipped; a customer their own until it reaches `BUILDFLOW_CUSTOMER_CANCEL_UNTIL` ' +
        '(default `confirmed`). Held stock is released (a confirmed order\'s sold stock put back), and the money goes back by a message of ' +
        'its own: the authorization is voided, or the capture refunded. 409 `ORDER_NOT_CANCELLABLE` past that point.',
      params: OrderIdParams,
      response: { 200: OrderViewSchema, ...errorResponses(400, 401, 403, 404, 409, 500, 503) },
    },
    handler: async (request) => {
      // Ownership first: another customer's order is not found, and nothing is changed.
      const { id } = await getOrder(app.db, request.params.id, orderScope(request));
      return cancelOrder(app.units, id, request.caller.kind === 'admin' ? ADMIN_CANCELLABLE : customerCancellable(app.config.customerCancelUntil));
    },
  });

  fastify.post('/v1/orders/:id/refunds', {
    onRequest: allow('admin'),
    schema: {
      tags,
      security,
      summary: 'Refund part or all of what an order was charged (admin)',
      description:
        'Either `amountCents` or `items` (refunded at the price paid), with a `reason`. Never more than captured less refunded ' +
        '(refunds still pending count): 409 `REFUND_EXCEEDS_CAPTURED` names both. The refund is written `pending` and asked of the ' +
        'provider by a worker under its own key. The same `Idempotency-Key` and body answer the refund already asked ' +
        '(header `Idempotent-Replayed: true`); another body under it answers 422 `IDEMPOTENCY_KEY_REUSED`.',
      headers: RefundHeaders,
      params: OrderIdParams,
      body: RefundBody,
      response: { 201: LedgerEntrySchema, ...errorResponses(400, 401, 403, 404, 409, 415, 422, 500, 503) },
    },
    handler: async (request, reply) => {
      const { amountCents, items, reason } = request.body;
      if ((amountCents === undefined) === (items === undefined)) throw new BuildflowError('VALIDATION_FAILED', 'give either amountCents or items');
      const { id } = await getOrder(app.db, request.params.id);
      const { refund, replayed } = await requestRefund(app.units, id, {
        idempotencyKey: request.headers['idempotency-key'],
        reason,
        ...(amountCents !== undefined ? { amountCents } : {}),
        ...(items ? { items } : {}),
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(refund);
    },
  });

  orderRecordsRoute(fastify, {
    url: '/v1/orders/:id/payments',
    summary: "An order's payment ledger: authorization, captures, voids and refunds, oldest first",
    response: LedgerResponse,
    list: async (idOrReference, scope) => listLedger(app.db, (await getOrder(app.db, idOrReference, scope)).id),
  });

  orderRecordsRoute(fastify, {
    url: '/v1/orders/:id/history',
    summary: "An order's status transitions, oldest first",
    response: HistoryResponse,
    list: (idOrReference, scope) => orderHistory(app.db, idOrReference, scope),
  });

  fastify.get('/v1/orders/:id/trace', {
    onRequest,
    schema: {
      tags,
      security,
      summary: "An order's whole story, oldest first",
      description:
        'From the stored rows: each transition with its reason, the payment, stock movements, notifications and emails; for the admin also ' +
        "each webhook delivery attempt and the order's pipeline message (its step, attempts, last error, dead or re-driven). The owner sees " +
        'the story without those internal entries.',
      params: OrderIdParams,
      response: { 200: TraceResponse, ...errorResponses(400, 401, 403, 404, 500, 503) },
    },
    handler: (request) => orderTrace(app.db, request.params.id, orderScope(request)),
  });
};
