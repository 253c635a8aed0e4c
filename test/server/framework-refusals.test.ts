import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, packageVersion } from '../../src/core/package-info.js';
import { ADMIN, openTestServer, type TestServer } from '../helpers/server.js';

// Refusals made by Fastify or Node's HTTP parser before any route runs still answer in the API's
// one error shape, with the right status and the identity header.
let t: TestServer;
let port: number;

beforeAll(async () => {
  t = await openTestServer();
  await t.server.listen({ port: 0, host: '127.0.0.1' });
  port = (t.server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await t?.dispose();
});

const errorShape = (code: string) => ({ error: { code, message: expect.any(String) } });

/** Sends raw bytes and returns the status line, headers and body of the answer. */
function raw(request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.end(request);
  });
}

describe('framework-level refusals', () => {
  it('when the route is unknown, then 404 NOT_FOUND in the error shape', async () => {
    const res = await t.request({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.data).toEqual(errorShape('NOT_FOUND'));
    expect(res.headers[IDENTITY_HEADER]).toBe(packageVersion());
  });

  it('when the path exists but not for the method, then 405 METHOD_NOT_ALLOWED with Allow', async () => {
    const res = await t.request({ method: 'DELETE', url: '/v1/orders' });
    expect(res.statusCode).toBe(405);
    expect(res.data).toEqual(errorShape('METHOD_NOT_ALLOWED'));
    expect(String(res.headers.allow).split(', ')).toEqual(expect.arrayContaining(['GET', 'POST']));
    const param = await t.request({ method: 'PATCH', url: '/v1/products/PT-DRL-18V' });
    expect(param.statusCode).toBe(405);
    expect(param.headers.allow).toContain('GET');
  });

  it('when the body is not JSON by its media type, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await t.admin({ method: 'POST', url: '/v1/orders', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(res.statusCode).toBe(415);
    expect(res.data).toEqual(errorShape('UNSUPPORTED_MEDIA_TYPE'));
  });

  it('when the body is larger than the limit, then 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.admin({ method: 'POST', url: '/v1/orders', headers: { 'content-type': 'application/json' }, payload: `{"items":"${'x'.repeat(300 * 1024)}"}` });
    expect(res.statusCode).toBe(413);
    expect(res.data).toEqual(errorShape('PAYLOAD_TOO_LARGE'));
  });

  it('when the JSON is malformed or empty, then 400 INVALID_JSON', async () => {
    for (const payload of ['{"items": [', '']) {
      const res = await t.admin({ method: 'POST', url: '/v1/orders', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(res.data).toEqual(errorShape('INVALID_JSON'));
    }
  });

  it('when a path parameter is longer than the router accepts, then 414 URI_TOO_LONG in the error shape', async () => {
    const res = await t.request({ method: 'GET', url: `/v1/orders/${'A'.repeat(101)}`, headers: ADMIN });
    expect(res.statusCode).toBe(414);
    expect(res.data).toEqual(errorShape('URI_TOO_LONG'));
    expect(res.headers[IDENTITY_HEADER]).toBe(packageVersion());
  });

  it('when the URL has a malformed percent-encoding, then 400 BAD_REQUEST in the error shape', async () => {
    const res = await t.request({ method: 'GET', url: '/v1/products/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.data).toEqual(errorShape('BAD_REQUEST'));
    expect(res.headers[IDENTITY_HEADER]).toBe(packageVersion());
  });

  it('when a header is malformed, then the parser refusal is 400 BAD_REQUEST in the error shape', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual(errorShape('BAD_REQUEST'));
    expect(res.headers[IDENTITY_HEADER]).toBe(packageVersion());
  });

  it('when Content-Length is not a number, then 400 BAD_REQUEST in the error shape', async () => {
    const res = await raw('POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual(errorShape('BAD_REQUEST'));
  });

  it('when the headers are larger than the server accepts, then 431 HEADERS_TOO_LARGE in the error shape', async () => {
    const res = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toEqual(errorShape('HEADERS_TOO_LARGE'));
  });

  it('when a request succeeds, then it also carries the identity header', async () => {
    const res = await t.request({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.headers[IDENTITY_HEADER]).toBe(packageVersion());
  });

  it('when the OpenAPI document is read, then its version is the package version', async () => {
    const res = await t.request({ method: 'GET', url: '/openapi.json' });
    expect(res.data.info.version).toBe(packageVersion());
  });
});
