import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listNotifications } from '../../core/notifications/list-notifications.js';
import { PageOf, errorResponses } from '../schemas/common.js';
import { ListNotificationsQuery, NotificationViewSchema } from '../schemas/notifications.js';
import type { RouteOptions } from './context.js';

export const notificationRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app }) => {
  fastify.get('/v1/notifications', {
    schema: {
      tags: ['notifications'],
      summary: 'List notifications sent to customers, newest first, optionally for one order',
      querystring: ListNotificationsQuery,
      response: { 200: PageOf(NotificationViewSchema), ...errorResponses(400, 404, 500) },
    },
    handler: (request) => listNotifications(app.db, request.query),
  });
};
