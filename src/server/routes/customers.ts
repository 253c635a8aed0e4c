import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createCustomer, disableCustomer, getCustomer, listCustomers, normalizeEmail } from '../../core/customers/customers.js';
import { revokeToken, signIn } from '../../core/customers/tokens.js';
import { ApiError } from '../api-error.js';
import { BEARER_SECURITY, allow } from '../auth.js';
import { RateLimiter } from '../rate-limit.js';
import { PageOf, PageQuery, errorResponses } from '../schemas/common.js';
import { CustomerIdParams, CustomerViewSchema, SignInBody, SignUpBody, TokenResponse } from '../schemas/customers.js';
import type { RouteOptions } from './context.js';
import { DEFAULTS } from '../../core/defaults.js';

const tags = ['customers'];

function limited(limiter: RateLimiter, key: string): void {
  const wait = limiter.hit(key);
  if (wait > 0) throw new ApiError('RATE_LIMITED', 'too many attempts; try again later', { 'retry-after': String(wait) });
}

export const customerRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (fastify, { app, tokenSecret }) => {
  const { rateLimits, scryptCost, tokenTtlMs } = app.config;
  const perAccount = new RateLimiter(rateLimits.signinPerAccount, DEFAULTS.http.rateWindowMs);
  const perAddress = new RateLimiter(rateLimits.signinPerAddress, DEFAULTS.http.rateWindowMs);

  fastify.post('/v1/customers', {
    schema: {
      tags,
      summary: 'Sign up a customer',
      description: 'Open to anyone (and to the admin). Limited per client address, like sign-in.',
      body: SignUpBody,
      response: { 201: CustomerViewSchema, ...errorResponses(400, 409, 413, 415, 429, 500, 503) },
    },
    handler: async (request, reply) => {
      limited(perAddress, `signup ${request.ip}`);
      const customer = await createCustomer(app.units, request.body, scryptCost);
      return reply.code(201).header('location', `/v1/customers/${customer.id}`).send(customer);
    },
  });

  fastify.post('/v1/auth/token', {
    schema: {
      tags,
      summary: 'Sign in: exchange email and password for a bearer token',
      description: 'Limited per account and per client address (429 with Retry-After). Wrong email, wrong password and disabled account all answer 401 INVALID_CREDENTIALS.',
      body: SignInBody,
      response: { 200: TokenResponse, ...errorResponses(400, 401, 413, 415, 429, 500, 503) },
    },
    handler: async (request) => {
      limited(perAddress, `signin ${request.ip}`);
      limited(perAccount, normalizeEmail(request.body.email));
      const issued = await signIn(app.units, request.body.email, request.body.password, { secret: tokenSecret, ttlMs: tokenTtlMs, scryptCost });
      return issued;
    },
  });

  fastify.delete('/v1/auth/token', {
    onRequest: allow('customer'),
    schema: {
      tags,
      summary: 'Sign out: revoke the token this request carries',
      security: BEARER_SECURITY,
      response: { 204: { type: 'null', description: 'Revoked' }, ...errorResponses(401, 403, 500, 503) },
    },
    handler: async (request, reply) => {
      if (request.caller.kind === 'customer') await revokeToken(app.units, tokenSecret, request.caller.token);
      return reply.code(204).send();
    },
  });

  fastify.get('/v1/me', {
    onRequest: allow('customer'),
    schema: { tags, summary: 'The signed-in customer', security: BEARER_SECURITY, response: { 200: CustomerViewSchema, ...errorResponses(401, 403, 500, 503) } },
    handler: (request) => getCustomer(app.db, request.caller.kind === 'customer' ? request.caller.customerId : ''),
  });

  fastify.get('/v1/customers', {
    onRequest: allow('admin'),
    schema: {
      tags,
      summary: 'List customers, newest first (admin)',
      security: BEARER_SECURITY,
      querystring: PageQuery,
      response: { 200: PageOf(CustomerViewSchema), ...errorResponses(400, 401, 403, 500, 503) },
    },
    handler: (request) => listCustomers(app.db, request.query),
  });

  fastify.get('/v1/customers/:id', {
    onRequest: allow('admin'),
    schema: {
      tags,
      summary: 'One customer (admin)',
      security: BEARER_SECURITY,
      params: CustomerIdParams,
      response: { 200: CustomerViewSchema, ...errorResponses(400, 401, 403, 404, 500, 503) },
    },
    handler: (request) => getCustomer(app.db, request.params.id),
  });

  fastify.post('/v1/customers/:id/disable', {
    onRequest: allow('admin'),
    schema: {
      tags,
      summary: 'Disable a customer and revoke their tokens (admin)',
      security: BEARER_SECURITY,
      params: CustomerIdParams,
      response: { 200: CustomerViewSchema, ...errorResponses(400, 401, 403, 404, 500, 503) },
    },
    handler: async (request) => {
      const customer = await disableCustomer(app.units, request.params.id);
      return customer;
    },
  });
};
