import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../core/db/schema.js';
import { authenticateToken } from '../core/customers/tokens.js';
import { isBuildflowError } from '../core/errors.js';
import type { OrderScope } from '../core/orders/queries.js';
import { ApiError } from './api-error.js';
import { RateLimiter } from './rate-limit.js';
import { DEFAULTS } from '../core/defaults.js';

/** Who is calling, from the `Authorization: Bearer …` header. */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'admin' }
  | { kind: 'carrier' }
  | { kind: 'metrics' }
  | { kind: 'customer'; customerId: string; token: string };

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

/** OpenAPI security requirement for routes that take a customer token, the admin key or the carrier key. */
export const BEARER_SECURITY = [{ bearerAuth: [] }];

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

// One-shot: a Hash object per request cost about twice as much, on every authenticated request.
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

function keyMatcher(key: string | undefined): (candidate: Buffer) => boolean {
  if (!key) return () => false;
  const expected = digest(key);
  return (candidate) => timingSafeEqual(candidate, expected);
}

export interface AuthOptions {
  db: Kysely<Database>;
  adminKey: string;
  carrierKey: string | undefined;
  /** Bearer key that opens /metrics and nothing else. */
  metricsKey?: string | undefined;
  tokenSecret: string;
  /** Requests per minute per customer. */
  perCustomerLimit: number;
}

const unauthorized = (message: string) => new ApiError('UNAUTHORIZED', message, { 'www-authenticate': 'Bearer' });

/**
 * Resolves `request.caller` on every request (an onRequest hook, before the body is read). A
 * credential that is present but not valid is refused with 401 on every route, whatever the route
 * would allow anonymously. Each customer's requests are counted; over the limit they get 429.
 */
export function registerAuth(fastify: FastifyInstance, o: AuthOptions): void {
  const isAdmin = keyMatcher(o.adminKey);
  const isCarrier = keyMatcher(o.carrierKey);
  const isMetrics = keyMatcher(o.metricsKey);
  const perCustomer = new RateLimiter(o.perCustomerLimit, DEFAULTS.http.rateWindowMs);
  fastify.decorateRequest('caller', null as never);
  fastify.addHook('onRequest', async (request) => {
    request.caller = { kind: 'anonymous' };
    const header = request.headers.authorization;
    if (header === undefined) return;
    const match = BEARER.exec(header);
    if (!match) throw unauthorized('the Authorization header must be: Bearer <token>');
    const credential = match[1]!;
    const hashed = digest(credential);
    if (isAdmin(hashed)) {
      request.caller = { kind: 'admin' };
      return;
    }
    if (isCarrier(hashed)) {
      request.caller = { kind: 'carrier' };
      return;
    }
    if (isMetrics(hashed)) {
      request.caller = { kind: 'metrics' };
      return;
    }
    let customerId: string;
    try {
      ({ customerId } = await authenticateToken(o.db, o.tokenSecret, credential));
    } catch (err) {
      if (isBuildflowError(err, 'TOKEN_INVALID')) throw unauthorized(err.message);
      throw err;
    }
    const wait = perCustomer.hit(customerId);
    if (wait > 0) throw new ApiError('RATE_LIMITED', 'too many requests; slow down', { 'retry-after': String(wait) });
    request.caller = { kind: 'customer', customerId, token: credential };
  });
}

type Kind = Caller['kind'];

const NEEDS: Record<string, string> = {
  customer: 'a customer token',
  admin: 'the admin key',
  carrier: 'the carrier key',
  metrics: 'the metrics key',
};

/** An onRequest hook admitting only the given kinds of caller: 401 without credentials, 403 with the wrong ones. */
export function allow(...kinds: Kind[]): onRequestHookHandler {
  const needs = kinds.map((k) => NEEDS[k]).join(' or ');
  return async (request) => {
    if (kinds.includes(request.caller.kind)) return;
    if (request.caller.kind === 'anonymous') throw unauthorized(`${needs} is required: Authorization: Bearer <token>`);
    throw new ApiError('FORBIDDEN', `this route needs ${needs}`);
  };
}

/** Whose orders the caller may see: a customer their own, the admin all. Call only after allow('customer', 'admin'). */
export function orderScope(request: FastifyRequest): OrderScope {
  const caller = request.caller;
  if (caller.kind === 'admin') return undefined;
  if (caller.kind === 'customer') return { customerId: caller.customerId };
  // Defensive: a route that forgot its allow() hook still shows nothing.
  return { customerId: '\u0000none' };
}
