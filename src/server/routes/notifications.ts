import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listNotifications } from '../../core/notifications/list-notifications.js';
import { BEARER_SECURITY, allow, orderScope } from '../auth.js';
import { PageOf, errorResponses } from '../schemas/common.js';
import { ListNotificationsQuery, NotificationViewSchema } from '../schemas/notifications.js';
import type { RouteOptions } from './context.js';

export const notificationRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  fastify.get('/v1/notifications', {
    onRequest: allow('customer', 'admin'),
    schema: {
      tags: ['notifications'],
      summary: 'List notifications, newest first, optionally for one order (a customer sees only their own)',
      security: BEARER_SECURITY,
      querystring: ListNotificationsQuery,
      response: { 200: PageOf(NotificationViewSchema), ...errorResponses(400, 401, 403, 404, 500, 503) },
    },
    handler: (request) => listNotifications(app.db, request.query, orderScope(request)),
  });
};
