import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestHookHandler } from 'fastify';
import { ApiError } from './api-error.js';

/** OpenAPI security requirement for admin routes (the scheme is declared in openapi.ts). */
export const ADMIN_SECURITY = [{ bearerAuth: [] }];

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * An onRequest hook (so it runs before the body is even read) that admits only
 * `Authorization: Bearer <adminKey>`. Both sides are hashed first, which gives timingSafeEqual the
 * equal-length buffers it needs without revealing the key's length.
 */
export function adminAuth(adminKey: string): onRequestHookHandler {
  const expected = digest(adminKey);
  return async (request) => {
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      throw new ApiError('UNAUTHORIZED', 'a valid admin key is required: Authorization: Bearer <key>', { 'www-authenticate': 'Bearer' });
    }
  };
}
