import { WEBHOOK_EVENTS } from '../core/webhooks/events.js';
import { EVENTS_DESCRIPTION } from './schemas/webhooks.js';

type Node = Record<string, unknown>;

/**
 * What the route schemas cannot say themselves, added to the generated OpenAPI document:
 * - `GET /metrics` answers Prometheus text, not JSON (its handler sends a string, so the route has
 *   no response schema to serialize with);
 * - a webhook's `events` lists the event types as an enum (the route only bounds the strings, so
 *   an unknown one is refused by core as WEBHOOK_EVENT_UNKNOWN, naming it, not by the validator).
 */
export function patchOpenApi<T extends object>(doc: T): T {
  const paths = (doc as { paths?: Record<string, Record<string, Node>> }).paths ?? {};
  const metrics = paths['/metrics']?.get;
  if (metrics) {
    metrics.responses = {
      ...(metrics.responses as Node | undefined),
      200: {
        description: 'Prometheus text exposition format, version 0.0.4',
        content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
      },
    };
  }
  walk(doc, (node) => {
    if (node.type === 'array' && node.description === EVENTS_DESCRIPTION && typeof node.items === 'object' && node.items !== null) {
      (node.items as Node).enum = [...WEBHOOK_EVENTS];
    }
  });
  return doc;
}

function walk(value: unknown, visit: (node: Node) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, visit);
  } else if (typeof value === 'object' && value !== null) {
    visit(value as Node);
    for (const v of Object.values(value)) walk(v, visit);
  }
}
