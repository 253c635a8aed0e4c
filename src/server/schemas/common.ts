import { Type, type ObjectOptions, type TObject, type TProperties, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../../core/pagination.js';

/** An object that rejects unknown fields: every object schema of the API is one. */
export function StrictObject<T extends TProperties>(properties: T, options: ObjectOptions = {}): TObject<T> {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

/** A string from a fixed list, as a plain JSON Schema `enum` (one readable error, one OpenAPI enum). */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** An `Idempotency-Key` header's value, 1 to 255 printable ASCII characters; `description` says what a retry under it answers. */
export function IdempotencyKey(description: string) {
  return Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]+$', description });
}

export const ErrorResponse = StrictObject(
  {
    error: StrictObject({
      code: Type.String({ description: 'Stable machine-readable code, e.g. VALIDATION_FAILED' }),
      message: Type.String({ description: 'Human-readable explanation, safe to show' }),
    }),
  },
  { description: 'Every failure has this shape' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (VALIDATION_FAILED, INVALID_JSON)',
  401: 'Missing, invalid, expired or revoked credentials (UNAUTHORIZED)',
  403: 'Valid credentials that this route does not accept (FORBIDDEN)',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body larger than the limit (PAYLOAD_TOO_LARGE)',
  415: 'Body is not application/json (UNSUPPORTED_MEDIA_TYPE)',
  422: 'Well-formed but not processable',
  429: 'Too many requests; see Retry-After (RATE_LIMITED)',
  500: 'Unexpected failure (INTERNAL)',
  503: 'The database (or another backend) is unavailable; retry later (UNAVAILABLE)',
};

/** Error response schemas for the given statuses, for a route's `response`. */
export function errorResponses<const S extends readonly number[]>(...statuses: S): { [K in S[number]]: typeof ErrorResponse } {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) out[status] = { ...ErrorResponse, description: ERROR_DESCRIPTIONS[status] ?? 'Error' };
  return out as { [K in S[number]]: typeof ErrorResponse };
}

/** `limit` and `cursor` of every list endpoint. */
export const PageQueryProperties = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT, description: `Page size, 1..${MAX_PAGE_LIMIT}` }),
  ),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' })),
};

/** A page of `item`: `{ items, nextCursor? }`; `nextCursor` is absent on the last page. */
export function PageOf<T extends TSchema>(item: T) {
  return StrictObject({
    items: Type.Array(item),
    nextCursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page; absent on the last page' })),
  });
}

/**
 * Compile-time check that a response schema describes exactly the fields of a core view: the
 * serializer drops fields a schema does not name, so a field added to a view must be added here.
 */
export type SameShape<A, B> = [keyof A, keyof B] extends [keyof B, keyof A] ? ([A] extends [B] ? ([B] extends [A] ? true : false) : false) : false;

export const PageQuery = StrictObject({ ...PageQueryProperties });
