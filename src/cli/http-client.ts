import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { loadClientConfig } from '../core/client-config.js';
import { IDENTITY_HEADER } from '../core/package-info.js';
import { CliError } from './cli-error.js';
import { bearerFor, type Credential } from './credentials.js';
import { printNote } from './output.js';
import type { ArgPath } from './arg-path.js';
import type { UserInputs } from './user-terms.js';

type Query = Record<string, string | number | undefined>;

/** The refusals that can be about what the user typed, and so are said in the user's terms. */
const ABOUT_INPUT = new Set(['VALIDATION_FAILED', 'URI_TOO_LONG']);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * A small client for the buildflow HTTP API: JSON in, JSON out, every failure a {@link CliError}.
 * Built on node:http rather than undici: loading undici alone takes longer than the whole start of
 * an HTTP command may (see bench/cli-start.ts), and one short JSON request needs none of its pooling.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly timeoutSeconds: number;
  /** The credential requests carry, and where it came from. */
  readonly credential: Credential | undefined;
  private readonly inFlight = new Set<{ destroy(): void }>();

  constructor(baseUrl: string, options: { credential?: Credential | undefined; timeoutSeconds: number }) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.credential = options.credential;
    this.timeoutSeconds = options.timeoutSeconds;
  }

  /** GET; the query parameters are the command's flags of the same names, and a refusal names those flags. */
  get<T>(path: string | ArgPath, query: Query = {}): Promise<T> {
    const flags = Object.fromEntries(Object.keys(query).map((k) => [k, `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`]));
    return this.send<T>('GET', path, { query, terms: { query: flags } });
  }

  /** POST; `terms` says which flag set each body field, query parameter or header, so a refusal names it. */
  post<T>(path: string | ArgPath, body: unknown, headers: Record<string, string> = {}, query: Query = {}, terms?: UserInputs): Promise<T> {
    return this.send<T>('POST', path, { body, headers, query, ...(terms ? { terms } : {}) });
  }

  patch<T>(path: string | ArgPath, body: unknown): Promise<T> {
    return this.send<T>('PATCH', path, { body });
  }

  /** DELETE; resolves with nothing on 204. */
  async delete(path: string | ArgPath): Promise<void> {
    await this.send<unknown>('DELETE', path, { allowEmpty: true });
  }

  /** One request; a refusal of what the user typed (a flag in `terms`, an argument in the path) names it as typed. */
  private async send<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    target: string | ArgPath,
    o: { query?: Query; body?: unknown; headers?: Record<string, string>; allowEmpty?: boolean; terms?: UserInputs },
  ): Promise<T> {
    const { path, args } = typeof target === 'string' ? { path: target, args: undefined } : target;
    try {
      return await this.request<T>(method, path, o);
    } catch (err) {
      if (!(err instanceof CliError) || !ABOUT_INPUT.has(err.code) || (!args && !o.terms)) throw err;
      const { inUserTerms } = await import('./user-terms.js');
      throw inUserTerms(err, { ...o.terms, ...(args ? { path: args } : {}) });
    }
  }

  private async request<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    o: { query?: Query; body?: unknown; headers?: Record<string, string>; allowEmpty?: boolean },
  ): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (this.credential) headers.authorization = `Bearer ${this.credential.value}`;
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const answer = await this.exchange(url, method, headers, body);
    const data = parseJson(answer.text);
    const error = errorShape(data);
    // A buildflow server names itself on every answer; its error shape alone also tells (a proxy may drop headers).
    if (answer.headers[IDENTITY_HEADER] === undefined && !(answer.status >= 400 && error)) {
      throw new CliError('NOT_BUILDFLOW', `the server at ${this.baseUrl} is not a buildflow API (it answered ${method} ${url.pathname} with status ${answer.status})`);
    }
    if (answer.status >= 400) {
      if (error) throw new CliError(error.code, error.message, { status: answer.status });
      throw new CliError(`HTTP_${answer.status}`, `buildflow at ${this.baseUrl} answered with status ${answer.status}`, { status: answer.status });
    }
    if (data === undefined && o.allowEmpty && answer.text === '') return undefined as T;
    if (data === undefined) {
      throw new CliError('INTERNAL', `buildflow at ${this.baseUrl} answered ${method} ${path} with a body that is not JSON`);
    }
    return data as T;
  }

  /** Drops every request still waiting for its answer (their promises reject), so the process can end. */
  abort(): void {
    for (const req of this.inFlight) req.destroy();
    this.inFlight.clear();
  }

  /** One request and its whole answer, within the timeout from the request until the last byte. */
  private async exchange(url: URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> {
    const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
    const timeoutMs = Math.round(this.timeoutSeconds * 1000);
    return new Promise<Answer>((resolve, reject) => {
      // One request per process: no keep-alive pool to hold the process open after the answer.
      const req = request(url, { method, agent: false, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
      this.inFlight.add(req);
      req.on('close', () => this.inFlight.delete(req));
      const timer = setTimeout(() => {
        req.destroy();
        reject(new CliError('NO_ANSWER', `no answer from ${this.baseUrl} within ${this.timeoutSeconds} s`));
      }, timeoutMs);
      const fail = (err: unknown) => {
        clearTimeout(timer);
        this.inFlight.delete(req);
        reject(new CliError('UNREACHABLE', `cannot reach buildflow at ${this.baseUrl}: ${reasonOf(err)}`));
      };
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(body);
    });
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

/** The API's `{ "error": { code, message } }`, when the body is one. */
function errorShape(data: unknown): { code: string; message: string } | undefined {
  const error = (data as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') return { code: error.code, message: error.message };
  return undefined;
}

/**
 * A client that sends `bearer` as it is, for tools that hold a key themselves (loadtest's set-up
 * and checks) rather than taking one from the command line. Their reads may be long: 30 s an answer.
 */
export function bearerClient(baseUrl: string, bearer?: string, timeoutSeconds = 30): ApiClient {
  const credential: Credential | undefined = bearer ? { value: bearer, source: '--token', identity: 'the given key', admin: false, unused: [] } : undefined;
  return new ApiClient(baseUrl.replace(/\/+$/, ''), { credential, timeoutSeconds });
}

/** The flags every HTTP command takes. */
export interface ApiFlags {
  url?: string | undefined;
  timeout?: number | undefined;
}

/**
 * A client for `--url`, else BUILDFLOW_URL, else http://127.0.0.1:3000, waiting `--timeout`, else
 * BUILDFLOW_TIMEOUT, else 5 seconds for each answer. With `auth`, requests carry a bearer
 * credential (see bearerFor); public commands send none, so a stale saved token cannot break them.
 */
export function clientFor(flags: ApiFlags, auth?: { token?: string | undefined }): ApiClient {
  const config = loadClientConfig(flags);
  let protocol: string | undefined;
  try {
    protocol = new URL(config.url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new CliError('USAGE', `the API URL must be an http(s) URL (--url or BUILDFLOW_URL), not ${config.url}`);
  }
  const normalized = config.url.replace(/\/+$/, '');
  const credential = auth ? bearerFor(normalized, auth.token) : undefined;
  // Two credentials at hand (an exported admin key and a saved login): say which one acts.
  if (credential && credential.unused.length > 0) printNote(`acting as ${credential.identity}; not using ${credential.unused.join(', ')}`);
  return new ApiClient(normalized, { credential, timeoutSeconds: config.timeoutSeconds });
}
