import { request } from 'undici';
import { loadConfig } from '../core/config.js';
import { CliError } from './cli-error.js';

// A buildflow request is short; anything slower than this is a server in trouble, not work in progress.
const TIMEOUT_MS = 30_000;

type Query = Record<string, string | number | undefined>;

/** A small client for the buildflow HTTP API: JSON in, JSON out, every failure a {@link CliError}. */
export class ApiClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.send<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.send<T>('POST', path, { body, headers });
  }

  private async send<T>(method: 'GET' | 'POST', path: string, o: { query?: Query; body?: unknown; headers?: Record<string, string> }): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await request(url, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
      });
    } catch (err) {
      throw new CliError('UNREACHABLE', `cannot reach buildflow at ${this.baseUrl}: ${reasonOf(err)}`);
    }
    const text = await res.body.text();
    const data = parseJson(text);
    if (res.statusCode >= 400) throw apiError(res.statusCode, data);
    if (data === undefined) {
      throw new CliError('INTERNAL', `buildflow at ${this.baseUrl} answered ${method} ${path} with a body that is not JSON`);
    }
    return data as T;
  }
}

/** Why a connection failed, in a few words (an AggregateError from dual-stack connects has no message). */
function reasonOf(err: unknown): string {
  const first = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err;
  const e = first as NodeJS.ErrnoException;
  return e?.message || e?.code || String(first);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Maps the API's `{ "error": { code, message } }` (or a bare status) to a CLI error. */
function apiError(status: number, data: unknown): CliError {
  const error = (data as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new CliError(error.code, error.message, { status });
  }
  return new CliError(`HTTP_${status}`, `buildflow answered with status ${status}`, { status });
}

/** A client for `--url`, else BUILDFLOW_URL, else http://127.0.0.1:3000. */
export function clientFor(url: string | undefined): ApiClient {
  const base = loadConfig({ BUILDFLOW_URL: url }).url;
  let protocol: string | undefined;
  try {
    protocol = new URL(base).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new CliError('USAGE', `the API URL must be an http(s) URL (--url or BUILDFLOW_URL), not ${base}`);
  }
  return new ApiClient(base);
}
