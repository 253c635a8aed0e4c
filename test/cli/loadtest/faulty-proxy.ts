import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IDENTITY_HEADER } from '../../../src/core/package-info.js';

/**
 * A small HTTP proxy in front of a target that stands in for a broken network or a slower build:
 * - `delayMs`: holds every request this long before passing it on;
 * - `fail500Every`: answers 500 `boom` (as a buildflow error) to every Nth request instead;
 * - `loseOrderEvery`: answers every Nth order placement 201 with an order the target never sees;
 * - `serialMs`: passes one request at a time, each held this long (a server with a fixed capacity).
 */
export interface ProxyFaults {
  delayMs?: number;
  fail500Every?: number;
  loseOrderEvery?: number;
  serialMs?: number;
}

export async function startFaultyProxy(target: string, faults: ProxyFaults): Promise<{ url: string; close(): Promise<void>; stats: { requests: number; failed: number; lost: number } }> {
  const upstream = new URL(target);
  const stats = { requests: 0, failed: 0, lost: 0 };
  let orders = 0;
  let queue: Promise<void> = Promise.resolve();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', resolve);
      });
      out.on('error', () => {
        res.writeHead(502).end();
        resolve();
      });
      out.end(body);
    });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        stats.requests += 1;
        const body = Buffer.concat(chunks);
        if (faults.fail500Every && stats.requests % faults.fail500Every === 0) {
          stats.failed += 1;
          res.writeHead(500, { 'content-type': 'application/json', [IDENTITY_HEADER]: 'proxy' }).end(JSON.stringify({ error: { code: 'INTERNAL', message: 'boom' } }));
          return;
        }
        if (faults.loseOrderEvery && req.method === 'POST' && req.url === '/v1/orders' && ++orders % faults.loseOrderEvery === 0) {
          stats.lost += 1;
          const items = (JSON.parse(body.toString('utf8')) as { items: unknown[] }).items;
          const now = new Date().toISOString();
          res.writeHead(201, { 'content-type': 'application/json', [IDENTITY_HEADER]: 'proxy' }).end(JSON.stringify({ id: randomUUID(), status: 'pending', items, totalCents: 0, createdAt: now, updatedAt: now }));
          return;
        }
        if (faults.delayMs) await sleep(faults.delayMs);
        if (faults.serialMs) {
          const turn = queue.then(async () => {
            await sleep(faults.serialMs!);
            await forward(req, body, res);
          });
          queue = turn.catch(() => {});
          await turn;
          return;
        }
        await forward(req, body, res);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
