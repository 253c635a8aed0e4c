import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adjustStock, listMovements, listProducts, upsertProduct } from '../../core/catalog/products.js';
import { ADMIN_SECURITY, adminAuth } from '../admin-auth.js';
import { PageOf, PageQuery, errorResponses } from '../schemas/common.js';
import { ListProductsQuery, MovementViewSchema, ProductBody, ProductViewSchema, SkuParams, StockBody } from '../schemas/products.js';
import type { RouteOptions } from './context.js';

const tags = ['products'];

export const productRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app, adminKey }) => {
  const admin = adminAuth(adminKey);

  fastify.get('/v1/products', {
    schema: {
      tags,
      summary: 'List products by sku, optionally of one category',
      querystring: ListProductsQuery,
      response: { 200: PageOf(ProductViewSchema), ...errorResponses(400, 500, 503) },
    },
    handler: (request) => listProducts(app.db, request.query),
  });

  fastify.get('/v1/products/:sku', {
    schema: {
      tags,
      summary: 'Get one product',
      params: SkuParams,
      response: { 200: ProductViewSchema, ...errorResponses(400, 404, 500, 503) },
    },
    handler: (request) => app.getProduct(request.params.sku),
  });

  fastify.put('/v1/products/:sku', {
    onRequest: admin,
    schema: {
      tags,
      summary: 'Create a product or update its name, category and price (admin)',
      description: 'Answers 201 when the product was created, 200 when it was updated. `onHand` is the initial stock of a new product; change stock of an existing one with POST /v1/products/{sku}/stock.',
      security: ADMIN_SECURITY,
      params: SkuParams,
      body: ProductBody,
      response: { 200: ProductViewSchema, 201: ProductViewSchema, ...errorResponses(400, 401, 413, 415, 500, 503) },
    },
    handler: async (request, reply) => {
      const { product, created } = await upsertProduct(app.units, { sku: request.params.sku, ...request.body });
      return reply.code(created ? 201 : 200).send(product);
    },
  });

  fastify.post('/v1/products/:sku/stock', {
    onRequest: admin,
    schema: {
      tags,
      summary: 'Set or change stock on hand, with a ledger row (admin)',
      security: ADMIN_SECURITY,
      params: SkuParams,
      body: StockBody,
      response: { 200: ProductViewSchema, ...errorResponses(400, 401, 404, 409, 413, 415, 500, 503) },
    },
    handler: (request) => adjustStock(app.units, request.params.sku, request.body),
  });

  fastify.get('/v1/products/:sku/movements', {
    onRequest: admin,
    schema: {
      tags,
      summary: "A product's stock ledger, newest first (admin)",
      security: ADMIN_SECURITY,
      params: SkuParams,
      querystring: PageQuery,
      response: { 200: PageOf(MovementViewSchema), ...errorResponses(400, 401, 404, 500, 503) },
    },
    handler: (request) => listMovements(app.db, request.params.sku, request.query),
  });
};
