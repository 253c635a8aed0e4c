import type { LookupAddress, LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { hostOf, isForbiddenAddress, resolveAllowed } from '../core/webhooks/address-policy.js';
import type { AttemptOutcome } from '../core/webhooks/deliveries.js';
import { DEFAULTS } from '../core/defaults.js';

const RESPONSE_EXCERPT_BYTES = DEFAULTS.deliveries.responseExcerptBytes;

export interface WebhookSenderOptions {
  allowPrivate: boolean;
  timeoutMs: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;

/**
 * POSTs webhook deliveries. The host is resolved when the connection is made and every address
 * is checked then, and the socket connects to the checked address (no second resolution), so a
 * name that turns private after registration (DNS rebinding) is refused. Redirects are never
 * followed: a 3xx is a failed attempt like any other non-2xx.
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(private readonly options: WebhookSenderOptions) {
    const lookup = (hostname: string, opts: LookupOneOptions & { all?: boolean }, callback: LookupCallback) => {
      resolveAllowed(hostname, options.allowPrivate).then(
        (found) => {
          const usable = opts.family === 4 || opts.family === 6 ? found.filter((a) => a.family === opts.family) : found;
          const list = usable.length > 0 ? usable : found;
          if (opts.all) callback(null, list);
          else callback(null, list[0]!.address, list[0]!.family);
        },
        (err: Error) => callback(Object.assign(new Error(err.message), { code: 'EADDRNOTALLOWED' })),
      );
    };
    this.agent = new Agent({
      connect: { lookup: lookup as never, timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: DEFAULTS.deliveries.webhookKeepAliveMs,
    });
  }

  async send(plan: { url: string; headers: Record<string, string>; body: string }): Promise<AttemptOutcome> {
    const startedAt = Date.now();
    const t0 = performance.now();
    const outcome = (o: Partial<AttemptOutcome>): AttemptOutcome => ({ startedAt, durationMs: performance.now() - t0, ...o });
    const url = new URL(plan.url);
    const host = hostOf(url);
    // An IP literal is connected to without a lookup, so it is checked here.
    if (isIP(host) && !this.options.allowPrivate && isForbiddenAddress(host)) {
      return outcome({ error: `address ${host} is not allowed (loopback, private, link-local or metadata)` });
    }
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { ...plan.headers, 'content-type': 'application/json', 'user-agent': 'buildflow-webhooks/1' },
        body: plan.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body) {
          chunks.push(chunk as Buffer);
          size += (chunk as Buffer).length;
          if (size >= RESPONSE_EXCERPT_BYTES) break;
        }
      } catch {
        // A body cut off after the status arrived does not change the status.
      } finally {
        res.body.destroy();
      }
      const retryAfter = res.headers['retry-after'];
      const o: Partial<AttemptOutcome> = {
        statusCode: res.statusCode,
        response: Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8'),
      };
      if (typeof retryAfter === 'string') o.retryAfter = retryAfter;
      if (res.statusCode >= 300 && res.statusCode < 400) o.error = `answered ${res.statusCode} (redirects are not followed)`;
      return outcome(o);
    } catch (err) {
      return outcome({ error: describe(err, this.options.timeoutMs) });
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const cause = e.cause ?? e;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || /timeout/i.test(e.code ?? '')) return `no answer within ${timeoutMs} ms`;
  return cause.message || String(err);
}
