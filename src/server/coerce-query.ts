import type { preValidationAsyncHookHandler } from 'fastify';

const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

interface PropertySchema {
  type?: unknown;
}

function coerce(value: string, type: unknown): unknown {
  if (type === 'integer' && INTEGER.test(value)) return Number(value);
  if (type === 'number' && NUMBER.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/**
 * Ajv runs with `coerceTypes: false` because a fastify app has one Ajv instance for every part of
 * the request and bodies must be taken exactly as sent (`"2"` is not a quantity). Query strings are
 * text by nature, so numeric and boolean query parameters are converted here, strictly: `"20"`
 * becomes 20, while `"1.5"`, `"1e2"`, `" 5"` or `"abc"` stay strings and fail validation.
 */
export const coerceQuery: preValidationAsyncHookHandler = async (request) => {
  const schema = request.routeOptions.schema?.querystring as { properties?: Record<string, PropertySchema> } | undefined;
  const query = request.query as Record<string, unknown> | null;
  if (!schema?.properties || !query) return;
  for (const [key, value] of Object.entries(query)) {
    const property = schema.properties[key];
    if (property && typeof value === 'string') query[key] = coerce(value, property.type);
  }
};
