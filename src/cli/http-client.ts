import { request } from 'undici';
import { loadConfig } from '../core/config.js';
import { CliError } from './cli-error.js';
import { bearerFor } from './credentials.js';

// A buildflow request is short; anything slower than this is a server in trouble, not work in progress.
const TIMEOUT_MS = 30_000;

type Query = Record<string, string | number | undefined>;

/** A small client for the buildflow HTTP API: JSON in, JSON out, every failure a {@link CliError}. */
export class ApiClient {
  readonly baseUrl: string;
  private readonly bearer: string | undefined;

  constructor(baseUrl: string, bearer?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.bearer = bearer;
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.send<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown, headers: Record<string, string> = {}, query: Query = {}): Promise<T> {
    return this.send<T>('POST', path, { body, headers, query });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('PATCH', path, { body });
  }

  /** DELETE; resolves with nothing on 204. */
  async delete(path: string): Promise<void> {
    await this.send<unknown>('DELETE', path, { allowEmpty: true });
  }

  private async send<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    o: { query?: Query; body?: unknown; headers?: Record<string, string>; allowEmpty?: boolean },
  ): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
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
    if (data === undefined && o.allowEmpty && text === '') return undefined as T;
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

/**
 * A client for `--url`, else BUILDFLOW_URL, else http://127.0.0.1:3000. With `auth`, requests
 * carry a bearer credential (see bearerFor: --token, BUILDFLOW_TOKEN, saved login, BUILDFLOW_ADMIN_KEY);
 * public commands send none, so a stale saved token cannot break them.
 */
export function clientFor(url: string | undefined, auth?: { token?: string | undefined }): ApiClient {
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
  const normalized = base.replace(/\/+$/, '');
  return new ApiClient(normalized, auth ? bearerFor(normalized, auth.token) : undefined);
}
