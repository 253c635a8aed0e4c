import { Type, type Static } from '@sinclair/typebox';
import type { BulkResult, DeadLetterImpact } from '../../core/pipeline/dead-letter-bulk.js';
import type { OrderTrace, TraceEvent } from '../../core/orders/trace.js';
import type { StepStatus } from '../../core/pipeline/pipeline-status.js';
import { ORDER_STEPS, TOPICS } from '../../core/outbox/outbox.js';
import { ORDER_STATUSES } from '../../core/domain/order-status.js';
import { StrictObject, StringEnum, type SameShape } from './common.js';

const nullableTime = (description: string) => Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description });

export const StepParams = StrictObject({ step: Type.String({ minLength: 1, maxLength: 32, description: `One of ${ORDER_STEPS.join(', ')}` }) });

export const PauseBody = StrictObject({
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Why, for whoever looks at the status next' })),
});

export const StepStatusSchema = StrictObject({
  step: StringEnum(ORDER_STEPS),
  paused: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  pausedAt: nullableTime('When the step was paused; null when it runs'),
  waitingOrders: Type.Integer({ description: 'Orders in the status this step moves on (pending → reserve, reserved → pay, paid → confirm)' }),
  stockHeld: Type.Integer({ description: 'Units of stock those orders hold reserved' }),
  oldestWaitingSince: nullableTime('When the longest-waiting of them reached that status'),
});
true satisfies SameShape<Static<typeof StepStatusSchema>, StepStatus>;

export const PipelineStatusResponse = StrictObject({ steps: Type.Array(StepStatusSchema) });
export const ResumeResponse = StrictObject({ resumed: Type.Boolean({ description: 'False when the step was not paused' }), steps: Type.Array(StepStatusSchema) });

export const DeadLetterFilterBody = StrictObject({
  step: Type.Optional(StringEnum(TOPICS, { description: 'Only dead letters of this step' })),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only those whose last error contains this text (case-insensitive)' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only those dead at or after this time' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Only those dead before this time' })),
  order: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Only this order's (id or reference)" })),
  all: Type.Optional(Type.Boolean({ description: 'Every dead letter; one of the filters or this is required' })),
  dryRun: Type.Optional(Type.Boolean({ description: 'Report what would be done and change nothing' })),
});

export const DeadLetterImpactSchema = StrictObject({
  id: Type.Integer(),
  step: Type.String(),
  orderId: Type.String(),
  reference: Type.String(),
  orderStatus: StringEnum(ORDER_STATUSES),
  stockHeld: Type.Integer({ description: 'Units of stock the order holds reserved' }),
  capturedCents: Type.Integer({ description: 'Money captured for the order and not refunded' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  deadAt: nullableTime('When it was dead-lettered'),
});
true satisfies SameShape<Static<typeof DeadLetterImpactSchema>, DeadLetterImpact>;

export const BulkResultSchema = StrictObject({
  action: StringEnum(['retry', 'discard'] as const),
  dryRun: Type.Boolean(),
  count: Type.Integer({ description: 'Dead letters matched (and, unless a dry run, retried or discarded)' }),
  stockHeld: Type.Integer({ description: 'Units of stock their orders hold, each order counted once' }),
  capturedCents: Type.Integer({ description: 'Money captured for their orders, each order counted once' }),
  items: Type.Array(DeadLetterImpactSchema),
});
true satisfies SameShape<Static<typeof BulkResultSchema>, BulkResult>;

export const TraceEventSchema = StrictObject({
  at: Type.String({ format: 'date-time' }),
  kind: StringEnum(['transition', 'payment', 'stock', 'notification', 'email', 'webhook', 'step'] as const, {
    description: '`webhook` and `step` (the pipeline message) only for the admin',
  }),
  summary: Type.String(),
  detail: Type.Object({}, { additionalProperties: true, description: "The stored row's fields" }),
});
true satisfies SameShape<Static<typeof TraceEventSchema>, TraceEvent>;

export const TraceResponse = StrictObject({
  orderId: Type.String(),
  reference: Type.String(),
  status: Type.String(),
  events: Type.Array(TraceEventSchema, { description: 'Oldest first' }),
});
true satisfies SameShape<Static<typeof TraceResponse>, OrderTrace>;
