import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, hasStackTrace, json, runCli } from './harness.js';

// --url pointing at something that is not buildflow, or at a socket that never answers. These
// peers are small fakes on purpose: they stand in for the broken servers the CLI must recognise.
let other: HttpServer;
let otherUrl: string;
let silent: Server;
let silentUrl: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  assertBuilt();
  other = createHttpServer((req, res) => {
    if (req.url?.startsWith('/v1/products')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
    } else if (req.method === 'POST') {
      res.writeHead(501, { 'content-type': 'text/plain' }).end('Not Implemented');
    } else {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
    }
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  // Accepts connections and reads, never writes a byte.
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => other?.close(r));
  await new Promise((r) => silent?.close(r));
});

describe('a server that is not buildflow', () => {
  it('when it answers 404, 501 or a 200 of its own, then each command says it is not a buildflow API and exits 5', async () => {
    for (const args of [
      ['order', 'get', 'BF-00000001'],
      ['order', 'create', '--item', 'PT-DRL-18V:1'],
      ['product', 'list'],
    ]) {
      const r = await runCli([...args, '--url', otherUrl]);
      expect(r.code, args.join(' ')).toBe(5);
      expect(r.stderr.trim()).toMatch(new RegExp(`^error: the server at ${otherUrl} is not a buildflow API \\(it answered \\w+ /v1/\\S+ with status (404|501|200)\\)$`));
      expect(r.stdout).toBe('');
    }
  });

  it('when --json is given, then the error is NOT_BUILDFLOW on stdout', async () => {
    const r = await runCli(['track', 'TRK0000000000', '--json', '--url', otherUrl]);
    expect(r.code).toBe(5);
    expect(json(r)).toEqual({ error: { code: 'NOT_BUILDFLOW', message: expect.stringContaining('is not a buildflow API') } });
  });
});

describe('a server that never answers', () => {
  it('when --timeout passes without an answer, then one line says so and it exits 5', async () => {
    const r = await runCli(['product', 'list', '--timeout', '1s', '--url', silentUrl]);
    expect(r.code).toBe(5);
    expect(r.stderr.trim()).toBe(`error: no answer from ${silentUrl} within 1 s`);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('when BUILDFLOW_TIMEOUT is set, then it is the timeout; a flag beats it', async () => {
    const byEnv = await runCli(['order', 'list', '--url', silentUrl], { env: { BUILDFLOW_TIMEOUT: '0.5' } });
    expect(byEnv.code).toBe(5);
    expect(byEnv.stderr.trim()).toBe(`error: no answer from ${silentUrl} within 0.5 s`);
    const byFlag = await runCli(['order', 'list', '--timeout', '1000ms', '--url', silentUrl], { env: { BUILDFLOW_TIMEOUT: '0.5' } });
    expect(byFlag.stderr.trim()).toBe(`error: no answer from ${silentUrl} within 1 s`);
  });

  it('when no timeout is given, then the default of 5 s applies', async () => {
    const r = await runCli(['product', 'get', 'PT-DRL-18V', '--url', silentUrl]);
    expect(r.code).toBe(5);
    expect(r.stderr.trim()).toBe(`error: no answer from ${silentUrl} within 5 s`);
  });

  it('when --timeout or BUILDFLOW_TIMEOUT is not a positive duration, then it exits 2 naming the expected form', async () => {
    const flag = await runCli(['product', 'list', '--timeout', 'soon', '--url', silentUrl]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("option '--timeout <duration>' argument 'soon' is invalid. expected a duration such as 5s or 500ms");
    const env = await runCli(['product', 'list', '--url', silentUrl], { env: { BUILDFLOW_TIMEOUT: '0' } });
    expect(env.code).toBe(2);
    expect(env.stderr.trim()).toMatch(/^error: invalid configuration: BUILDFLOW_TIMEOUT must be above 0 .*expected a duration such as 5s or 500ms/);
  });

  it('when --timeout is the old bare number of seconds, then it still applies, with a one-line deprecation note', async () => {
    const r = await runCli(['product', 'list', '--timeout', '1', '--url', silentUrl]);
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split('\n')).toEqual([
      'buildflow: --timeout 1 without a unit is deprecated; write --timeout 1s',
      `error: no answer from ${silentUrl} within 1 s`,
    ]);
  });

  it('when BUILDFLOW_TIMEOUT has a unit, then it is read as that duration', async () => {
    const r = await runCli(['order', 'list', '--url', silentUrl], { env: { BUILDFLOW_TIMEOUT: '700ms' } });
    expect(r.code).toBe(5);
    expect(r.stderr.trim()).toBe(`error: no answer from ${silentUrl} within 0.7 s`);
  });
});
