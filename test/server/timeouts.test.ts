import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
afterEach(async () => t?.dispose());

/** Sends `head` one byte every `everyMs`; resolves with what the server answered once it closed the socket. */
function trickle(port: number, head: string, everyMs: number): Promise<{ answer: string; bytesSent: number; closedEarly: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('error', () => {}); // a reset after the server gave up is part of the outcome
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, bytesSent: sent, closedEarly: sent < head.length });
    });
    socket.on('connect', () => {
      timer = setInterval(() => {
        if (sent >= head.length) {
          clearInterval(timer);
          socket.end();
          return;
        }
        socket.write(head[sent++]!);
      }, everyMs);
    });
    setTimeout(() => reject(new Error('trickle test ran past its own bound')), 60_000).unref();
  });
}

describe('HTTP timeouts', () => {
  it('when a client trickles its request slower than the request timeout allows, then the server answers 408 and closes before the request is complete', async () => {
    t = await openTestServer({ BUILDFLOW_HTTP_REQUEST_TIMEOUT_MS: 600 });
    await t.server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.server.server.address() as { port: number };
    // 150 bytes at 50 ms each would take 7.5 s to arrive.
    const head = `GET /v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'x'.repeat(100)}\r\n\r\n`;
    const outcome = await trickle(port, head, 50);
    expect(outcome.closedEarly).toBe(true);
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('when the timeouts are configured, then the listening server carries them', async () => {
    t = await openTestServer({ BUILDFLOW_HTTP_REQUEST_TIMEOUT_MS: 1234, BUILDFLOW_HTTP_KEEP_ALIVE_TIMEOUT_MS: 2345, BUILDFLOW_HTTP_CONNECTION_TIMEOUT_MS: 3456 });
    expect(t.server.server.requestTimeout).toBe(1234);
    expect(t.server.server.keepAliveTimeout).toBe(2345);
    expect(t.server.server.timeout).toBe(3456);
  });

  it('when nothing is configured, then every timeout has a bound (none is Node’s unlimited or 300 s default)', async () => {
    t = await openTestServer();
    for (const ms of [t.server.server.requestTimeout, t.server.server.keepAliveTimeout, t.server.server.timeout]) {
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThan(300_000);
    }
  });
});
