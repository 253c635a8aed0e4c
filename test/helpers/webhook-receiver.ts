import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

/** One request the receiver got, as it arrived. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** How the receiver answers the nth request (0-based) it gets on a path. */
export type Answer = (n: number, req: Received, reply: FastifyReply) => Promise<unknown> | unknown;

/**
 * A real HTTP receiver on an ephemeral loopback port that records every request with its raw
 * body (signatures are over the exact bytes) and answers as the test says, 200 by default.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Requests whose answer has not been sent yet. */
  open = 0;
  private readonly counts = new Map<string, number>();
  private readonly app = Fastify({ logger: false, forceCloseConnections: true });
  url = '';

  constructor(public answer: Answer = () => ({ ok: true })) {
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    this.app.all('/*', async (request: FastifyRequest, reply) => {
      const rec: Received = {
        path: request.url,
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
        body: String(request.body ?? ''),
        at: Date.now(),
      };
      this.received.push(rec);
      const n = this.counts.get(rec.path) ?? 0;
      this.counts.set(rec.path, n + 1);
      this.open++;
      try {
        return await this.answer(n, rec, reply);
      } finally {
        this.open--;
      }
    });
  }

  async start(): Promise<this> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.app.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }

  /** Requests on `path` (default: every path). */
  on(path?: string): Received[] {
    return path ? this.received.filter((r) => r.path === path) : this.received;
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

/** Polls `check` until it is true, failing with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
