import { Type, type Static } from '@sinclair/typebox';
import type { WebhookEndpointView } from '../../core/webhooks/endpoints.js';
import type { DeliveryView } from '../../core/webhooks/delivery-log.js';
import { WEBHOOK_EVENTS } from '../../core/webhooks/events.js';
import { PageQueryProperties, StrictObject, StringEnum, type SameShape } from './common.js';
import { DEFAULTS } from '../../core/defaults.js';

export const EVENTS_DESCRIPTION = `Event types: ${WEBHOOK_EVENTS.join(', ')}`;
// Events are checked by core (WEBHOOK_EVENT_UNKNOWN names the unknown one), so the schema only bounds them.
const Events = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 20, description: EVENTS_DESCRIPTION });
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL the events are POSTed to' });
const Description = Type.String({ maxLength: 500 });
const Threshold = Type.Integer({ minimum: 0, maximum: 1_000_000, description: `stock.low fires when stock on hand falls to this or below (default ${DEFAULTS.webhooks.stockLowThreshold})` });

export const CreateWebhookBody = StrictObject({
  url: Url,
  events: Events,
  description: Type.Optional(Description),
  stockLowThreshold: Type.Optional(Threshold),
});

export const UpdateWebhookBody = StrictObject(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    stockLowThreshold: Type.Optional(Threshold),
    enabled: Type.Optional(Type.Boolean({ description: 'false disables the endpoint; true enables it and forgets its failure streak' })),
  },
  { minProperties: 1 },
);

export const WebhookIdParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 40 }) });
export const DeliveryParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 40 }), deliveryId: Type.String({ minLength: 1, maxLength: 40 }) });

const endpointProperties = {
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(StringEnum(WEBHOOK_EVENTS)),
  stockLowThreshold: Type.Integer(),
  enabled: Type.Boolean(),
  disabledReason: Type.Optional(Type.String()),
  previousSecretExpiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'Until then deliveries carry a signature with the previous secret too' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
};
export const WebhookEndpointSchema = StrictObject(endpointProperties);
true satisfies SameShape<Static<typeof WebhookEndpointSchema>, WebhookEndpointView>;

export const WebhookEndpointWithSecretSchema = StrictObject({
  ...endpointProperties,
  secret: Type.String({ description: 'whsec_… signing secret; shown only in this response' }),
});

const AttemptSchema = StrictObject({
  at: Type.String({ format: 'date-time' }),
  durationMs: Type.Integer(),
  statusCode: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
  response: Type.Optional(Type.String({ description: 'First KiB of the answer' })),
});

export const DeliverySchema = StrictObject({
  id: Type.String({ description: 'The webhook-id header, the same on every attempt and replay' }),
  endpointId: Type.String(),
  eventType: Type.String(),
  orderId: Type.Optional(Type.String()),
  orderReference: Type.Optional(Type.String({ description: "the order's reference, BF-…" })),
  sequence: Type.Optional(Type.Integer()),
  status: StringEnum(['pending', 'delivered', 'dead'] as const),
  attempts: Type.Integer({ description: 'Attempts since it was created or last replayed' }),
  nextAttemptAt: Type.Optional(Type.String({ format: 'date-time' })),
  lastError: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  payload: Type.Unknown({ description: 'The body sent' }),
  log: Type.Array(AttemptSchema),
});
true satisfies SameShape<Static<typeof DeliverySchema>, DeliveryView>;

export const ListDeliveriesQuery = StrictObject({
  status: Type.Optional(StringEnum(['pending', 'delivered', 'dead'] as const)),
  ...PageQueryProperties,
});

export const ReplayBody = StrictObject({
  since: Type.String({ format: 'date-time', description: 'Replay every dead delivery created at or after this time' }),
});

export const ReplayedSchema = StrictObject({ replayed: Type.Integer() });
