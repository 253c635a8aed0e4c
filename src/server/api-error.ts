import type { ServerErrorCode } from './error-status.js';

/** A failure raised by the HTTP layer itself (auth, framework errors); `message` is safe to show. */
export class ApiError extends Error {
  readonly code: ServerErrorCode;
  /** Response headers the failure calls for, such as `WWW-Authenticate`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ServerErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.headers = headers;
  }
}
