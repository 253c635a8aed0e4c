import { CliError } from '../../cli-error.js';
import { ExitCode } from '../../exit-codes.js';
import { bearerClient } from '../../http-client.js';

/** The part of the API client set-up, settling and checks use. */
export interface LoadtestApi {
  readonly baseUrl: string;
  get<T>(path: string, query?: Record<string, string | number>): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
}

// Bounded: about 6 s of backoff in all before a set-up or check request is given up on.
const ATTEMPTS = 6;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;

/** A failure worth another try: the target answered 5xx, or gave no answer at all. */
export function isTransient(err: CliError): boolean {
  return err.code === 'UNREACHABLE' || err.code === 'NO_ANSWER' || (err.status !== undefined && err.status >= 500);
}

/**
 * Runs `send` until it succeeds or fails for a reason other than a 5xx or a lost connection;
 * those are retried with exponential backoff, {@link ATTEMPTS} times in all. What still fails
 * exits 5 (the target is unavailable) naming the request and the last answer: a CI job must be
 * able to tell a flaky target from a bug in the tool, which alone exits 1.
 */
export async function withRetry<T>(what: string, send: () => Promise<T>): Promise<T> {
  let backoff = FIRST_BACKOFF_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      const answer = err.status !== undefined ? `answered ${err.status} ${err.code}: ${err.message}` : `failed: ${err.message}`;
      if (!isTransient(err)) throw new CliError(err.code, `${what} ${answer}`, { exitCode: err.exitCode, ...(err.status !== undefined ? { status: err.status } : {}) });
      if (attempt >= ATTEMPTS) throw new CliError('UNAVAILABLE', `${what} still failed after ${ATTEMPTS} attempts: ${answer.replace(/^failed: /, '')}`, { exitCode: ExitCode.UNAVAILABLE });
      await new Promise((r) => setTimeout(r, backoff * (0.5 + Math.random() / 2)));
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
  }
}

/**
 * A client for loadtest's own requests (set-up, settling, checks) that retries what is safe to
 * repeat: every GET, and the POSTs loadtest sends, which all are (setting stock to a number,
 * signing in; a sign-up repeated after a lost answer meets EMAIL_TAKEN, which set-up expects).
 */
export function retryingClient(baseUrl: string, bearer?: string, purpose = 'set-up'): LoadtestApi {
  const client = bearerClient(baseUrl, bearer);
  return {
    baseUrl: client.baseUrl,
    get: <T>(path: string, query: Record<string, string | number> = {}) => withRetry(`${purpose} request GET ${path}`, () => client.get<T>(path, query)),
    post: <T>(path: string, body: unknown) => withRetry(`${purpose} request POST ${path}`, () => client.post<T>(path, body)),
  };
}
