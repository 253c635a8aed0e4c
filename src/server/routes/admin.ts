import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findStockDrift } from '../../core/catalog/reconcile.js';
import { listPayments } from '../../core/payments/list-payments.js';
import { BEARER_SECURITY, allow } from '../auth.js';
import { ListPaymentsQuery, PaymentViewSchema, StockDriftResponse } from '../schemas/admin.js';
import { PageOf, errorResponses } from '../schemas/common.js';
import type { RouteOptions } from './context.js';

const tags = ['admin'];

/** Read-only views for audits and load-test checks: what the API does not otherwise expose. */
export const adminRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  // Every route here is the admin's: one hook for the plugin, so a route added later cannot go unguarded.
  fastify.addHook('onRequest', allow('admin'));

  fastify.get('/v1/admin/payments', {
    schema: {
      tags,
      security: BEARER_SECURITY,
      summary: 'List payments by order id (admin)',
      description: 'One payment per order that reached the pay step; its status says whether it was captured, declined or refunded.',
      querystring: ListPaymentsQuery,
      response: { 200: PageOf(PaymentViewSchema), ...errorResponses(400, 401, 403, 500, 503) },
    },
    handler: (request) => listPayments(app.db, request.query),
  });

  fastify.get('/v1/admin/stock-drift', {
    schema: {
      tags,
      security: BEARER_SECURITY,
      summary: 'Products whose stock disagrees with the stock ledger (admin)',
      description: "The same comparison as `buildflow doctor`'s stock-reconciliation check, over HTTP.",
      response: { 200: StockDriftResponse, ...errorResponses(401, 403, 500, 503) },
    },
    handler: async () => ({ items: await findStockDrift(app.db) }),
  });
};
