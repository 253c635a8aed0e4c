import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { IDENTITY_HEADER, packageVersion } from '../core/package-info.js';
import type { ErrorBody } from './error-handler.js';
import { ERROR_STATUS, ServerErrorCodes, type ServerErrorCode } from './error-status.js';

/**
 * The refusals Fastify and Node's HTTP parser make before any route or error handler runs, answered
 * in the API's one error shape `{ error: { code, message } }` and with the identity header, like
 * every other answer. Fastify's defaults write their own shape (`{"error":"Bad Request","code":
 * "FST_ERR_…","statusCode":…}`) straight to the socket.
 */

function body(code: ServerErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Fastify's `frameworkErrors`: a URL it cannot decode, or a path parameter over maxParamLength. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let code: ServerErrorCode = ServerErrorCodes.INTERNAL;
  let message = 'internal error';
  if (err.code === 'FST_ERR_BAD_URL') {
    code = ServerErrorCodes.BAD_REQUEST;
    message = 'the request URL is not valid (a malformed percent-encoding?)';
  } else if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    code = ServerErrorCodes.URI_TOO_LONG;
    message = 'a path segment of the request URL is too long';
  } else {
    request.log.error({ err }, 'request failed before routing');
  }
  void reply.code(ERROR_STATUS[code]).header(IDENTITY_HEADER, packageVersion()).send(body(code, message));
}

/** What Node's HTTP parser refused, as status and code. */
function clientErrorOf(err: NodeJS.ErrnoException): { status: number; code: ServerErrorCode; message: string } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: ServerErrorCodes.REQUEST_TIMEOUT, message: 'the request did not arrive in time' };
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, code: ServerErrorCodes.HEADERS_TOO_LARGE, message: 'the request headers are too large' };
  return { status: 400, code: ServerErrorCodes.BAD_REQUEST, message: 'the request is not valid HTTP (a malformed header or request line)' };
}

/**
 * Fastify's `clientErrorHandler` (Node's 'clientError'): the request never became a request, so the
 * answer is written to the socket by hand, then the connection is closed.
 */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = clientErrorOf(err);
  this.log.debug({ err }, 'client error');
  const text = JSON.stringify(body(code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        `${IDENTITY_HEADER}: ${packageVersion()}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(err);
}

/** The options to pass to `Fastify()` so no refusal escapes the error shape. */
export const frameworkErrorOptions: Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> = {
  frameworkErrors,
  clientErrorHandler,
};

/**
 * Remembers each route's method and path pattern so that a request for a known path with another
 * method answers 405 METHOD_NOT_ALLOWED with `Allow`, not 404 (the router only says "no route").
 */
export function trackRouteMethods(fastify: FastifyInstance): (path: string) => string[] {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  fastify.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    const source = route.url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    routes.push({ pattern: new RegExp(`^${source}/?$`), methods });
  });
  return (path) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))].sort();
}
