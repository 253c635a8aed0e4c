import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static, TArray, TObject, TSchema } from '@sinclair/typebox';
import type { OrderScope } from '../../core/orders/queries.js';
import { BEARER_SECURITY, allow, orderScope } from '../auth.js';
import { errorResponses } from '../schemas/common.js';
import { OrderIdParams } from '../schemas/orders.js';

type Api = Parameters<FastifyPluginAsyncTypebox>[0];

interface OrderRecords<T extends TSchema> {
  url: `/v1/orders/:id/${string}`;
  summary: string;
  response: TObject<{ items: TArray<T> }>;
  /** The records of the order named by id or reference, oldest first; an order outside `scope` is not found. */
  list: (idOrReference: string, scope: OrderScope) => Promise<Static<T>[]>;
}

/**
 * `GET /v1/orders/:id/…`: one order's records of a kind (its transitions, payments, returns) as
 * `{ items }`. A customer reaches only their own orders (another's answers 404), the admin any.
 */
export function orderRecordsRoute<T extends TSchema>(fastify: Api, records: OrderRecords<T>): void {
  fastify.get(records.url, {
    onRequest: allow('customer', 'admin'),
    schema: {
      tags: ['orders'],
      security: BEARER_SECURITY,
      summary: records.summary,
      params: OrderIdParams,
      response: { 200: records.response, ...errorResponses(400, 401, 403, 404, 500, 503) },
    },
    handler: async (request) => ({ items: await records.list(request.params.id, orderScope(request)) }),
  });
}
