import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../core/db/unavailable.js';
import { isBuildflowError } from '../core/errors.js';
import { ApiError } from './api-error.js';
import { trackRouteMethods } from './framework-errors.js';
import { ERROR_STATUS, FASTIFY_ERROR_CODES, ServerErrorCodes, type ApiErrorCode } from './error-status.js';
import { validationMessage } from './validation-message.js';

/** The one error body every route answers with. */
export interface ErrorBody {
  error: { code: ApiErrorCode; message: string };
}

interface Mapped {
  code: ApiErrorCode;
  message: string;
  headers?: Readonly<Record<string, string>>;
}

const INTERNAL: Mapped = { code: ServerErrorCodes.INTERNAL, message: 'internal error' };
// The driver's words (host, port, SQLSTATE) stay in the log, like an INTERNAL's.
const DATABASE_UNAVAILABLE: Mapped = { code: 'UNAVAILABLE', message: 'the database is unavailable; retry later' };

// Clearer words than the framework's for failures clients commonly cause.
const MESSAGES: Partial<Record<ApiErrorCode, string>> = {
  UNSUPPORTED_MEDIA_TYPE: 'the request body must be JSON (Content-Type: application/json)',
};

function map(err: FastifyError): Mapped {
  // Anything can be thrown; only objects can carry a code.
  if (typeof err !== 'object' || err === null) return INTERNAL;
  if (isBuildflowError(err)) return { code: err.code, message: err.message };
  if (err instanceof ApiError) return { code: err.code, message: err.message, headers: err.headers };
  if (err.validation) {
    return { code: 'VALIDATION_FAILED', message: validationMessage(err.validationContext ?? 'body', err.validation) };
  }
  if (typeof err.code === 'string' && Object.hasOwn(FASTIFY_ERROR_CODES, err.code)) {
    const code = FASTIFY_ERROR_CODES[err.code]!;
    return { code, message: MESSAGES[code] ?? err.message };
  }
  // Another framework or plugin error that blames the request: its message is written for clients.
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 && String(err.code).startsWith('FST_')) {
    return { code: ServerErrorCodes.BAD_REQUEST, message: err.message };
  }
  // A dropped, refused or busy database connection is the client's cue to retry, not a bug.
  if (isDatabaseUnavailable(err)) return DATABASE_UNAVAILABLE;
  return INTERNAL;
}

/**
 * Maps every failure to `{ error: { code, message } }` with the status from the one table. Coded
 * errors carry messages written for clients; a database that cannot serve answers UNAVAILABLE
 * (503) with a generic message; anything else is an unexpected failure, answered with a generic
 * INTERNAL. Both 5xx are logged here with their stack.
 */
export function registerErrorHandling(fastify: FastifyInstance): void {
  fastify.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = map(err);
    const status = ERROR_STATUS[mapped.code];
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
    } else {
      // The request's own line (request-log.ts) says 4xx at info; the why is for whoever debugs it.
      request.log.debug({ code: mapped.code, message: mapped.message }, 'request rejected');
    }
    const body: ErrorBody = { error: { code: mapped.code, message: mapped.message } };
    return reply.code(status).headers(mapped.headers ?? {}).send(body);
  });

  const methodsFor = trackRouteMethods(fastify);
  fastify.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = methodsFor(path);
    if (allowed.length > 0) {
      const body: ErrorBody = { error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}` } };
      return reply.code(405).header('allow', allowed.join(', ')).send(body);
    }
    const body: ErrorBody = { error: { code: 'NOT_FOUND', message: `no route for ${request.method} ${path}` } };
    return reply.code(404).send(body);
  });
}
