import { Type, type Static } from '@sinclair/typebox';
import type { NotificationView } from '../../core/notifications/list-notifications.js';
import { PageQueryProperties, StrictObject, type SameShape } from './common.js';

export const NotificationViewSchema = StrictObject({
  id: Type.Integer(),
  orderId: Type.String(),
  orderReference: Type.String({ description: "the order's reference, BF-…" }),
  kind: Type.String(),
  message: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
true satisfies SameShape<Static<typeof NotificationViewSchema>, NotificationView>;

export const ListNotificationsQuery = StrictObject({
  order: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only this order (id or reference)' })),
  ...PageQueryProperties,
});
