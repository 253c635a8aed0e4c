/** Every exit code of the CLI. Scripts rely on these numbers: never renumber, only add. */
export const ExitCode = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  REJECTED: 4,
  UNAVAILABLE: 5,
  ORDER_CANCELLED: 6,
  UNAUTHORIZED: 7,
  CANNOT_LISTEN: 8,
  UNHEALTHY: 9,
  THRESHOLDS_MISSED: 10,
  CHECKS_FAILED: 11,
  COMPARE_FAILED: 12,
  INTERRUPTED: 130,
} as const;

/**
 * What each exit code means, for people: the README's exit-code table is generated from this
 * (`npm run docs:config`; test/cli/exit-code-table.test.ts fails when they disagree).
 */
export const EXIT_CODE_MEANINGS: Record<keyof typeof ExitCode, string> = {
  OK: 'ok',
  INTERNAL: 'internal error (a bug, or a server `500`)',
  USAGE: 'usage: bad flag or argument, invalid configuration, no password given, production start without a strong token secret',
  NOT_FOUND: "not found (also another customer's order)",
  REJECTED: 'input rejected (400/409/422, e.g. an invalid shipment transition or too many open orders); the message names the flag, the `--item` or the argument you typed, as `--help` shows it: `<idOrReference> may have at most 64 characters`',
  UNAVAILABLE: 'server unreachable or unavailable, rate limited (429), no answer within `--timeout`, the URL answers but is not a buildflow API, or `--wait` timed out; `serve`, `worker`, `migrate`, `seed` and `loadtest` cannot reach the Postgres, Redis or SMTP server they are configured with (one line naming it, its URL without the password and the variable that set it)',
  ORDER_CANCELLED: 'the order ended cancelled (`order create --wait`)',
  UNAUTHORIZED: 'unauthorized (401/403): no, wrong, expired or revoked credentials, or a route the credentials do not open',
  CANNOT_LISTEN: '`serve` cannot listen (address in use, no permission)',
  UNHEALTHY: 'unhealthy (`doctor`: a check failed; `dead-letters` finds no database, or one never migrated, and creates none)',
  THRESHOLDS_MISSED: 'thresholds missed (`loadtest`)',
  CHECKS_FAILED: 'checks failed (`loadtest`; wins over 10 and 12)',
  COMPARE_FAILED: 'worse than the baseline past a tolerance (`loadtest compare`, `loadtest --baseline`; wins over 10)',
  INTERRUPTED: 'interrupted with Ctrl-C (an order already accepted goes on)',
};

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Exit code for each error code we know: core's (src/core/errors.ts), the server's and the CLI's own. */
const BY_ERROR_CODE: Record<string, ExitCodeValue> = {
  // core
  VALIDATION_FAILED: ExitCode.REJECTED,
  UNKNOWN_SKU: ExitCode.REJECTED,
  PRODUCT_NOT_FOUND: ExitCode.NOT_FOUND,
  ORDER_NOT_FOUND: ExitCode.NOT_FOUND,
  DEAD_LETTER_NOT_FOUND: ExitCode.NOT_FOUND,
  STEP_UNKNOWN: ExitCode.NOT_FOUND,
  ORDER_NOT_CANCELLABLE: ExitCode.REJECTED,
  REFUND_EXCEEDS_CAPTURED: ExitCode.REJECTED,
  RETURN_NOT_FOUND: ExitCode.NOT_FOUND,
  RETURN_EXCEEDS_PURCHASED: ExitCode.REJECTED,
  RETURN_NOT_ALLOWED: ExitCode.REJECTED,
  RETURN_WINDOW_CLOSED: ExitCode.REJECTED,
  RETURN_ALREADY_RECEIVED: ExitCode.REJECTED,
  STOCK_BELOW_RESERVED: ExitCode.REJECTED,
  IDEMPOTENCY_KEY_REUSED: ExitCode.REJECTED,
  IDEMPOTENCY_KEY_IN_FLIGHT: ExitCode.REJECTED,
  CUSTOMER_NOT_FOUND: ExitCode.NOT_FOUND,
  EMAIL_TAKEN: ExitCode.REJECTED,
  INVALID_CREDENTIALS: ExitCode.UNAUTHORIZED,
  TOKEN_INVALID: ExitCode.UNAUTHORIZED,
  TOO_MANY_OPEN_ORDERS: ExitCode.REJECTED,
  SHIPMENT_NOT_FOUND: ExitCode.NOT_FOUND,
  SHIPMENT_TRANSITION_INVALID: ExitCode.REJECTED,
  WEBHOOK_NOT_FOUND: ExitCode.NOT_FOUND,
  WEBHOOK_DELIVERY_NOT_FOUND: ExitCode.NOT_FOUND,
  WEBHOOK_URL_INVALID: ExitCode.REJECTED,
  WEBHOOK_URL_FORBIDDEN: ExitCode.REJECTED,
  WEBHOOK_EVENT_UNKNOWN: ExitCode.REJECTED,
  WEBHOOK_ENDPOINT_DISABLED: ExitCode.REJECTED,
  // A bad BUILDFLOW_* variable or flag value is a usage problem: fix the command line or the env.
  CONFIG_INVALID: ExitCode.USAGE,
  UNAVAILABLE: ExitCode.UNAVAILABLE,
  // server
  INVALID_JSON: ExitCode.REJECTED,
  PAYLOAD_TOO_LARGE: ExitCode.REJECTED,
  NOT_FOUND: ExitCode.NOT_FOUND,
  UNAUTHORIZED: ExitCode.UNAUTHORIZED,
  FORBIDDEN: ExitCode.UNAUTHORIZED,
  // Over a rate limit: the server is refusing this caller for now.
  RATE_LIMITED: ExitCode.UNAVAILABLE,
  INTERNAL: ExitCode.INTERNAL,
  // cli
  USAGE: ExitCode.USAGE,
  UNREACHABLE: ExitCode.UNAVAILABLE,
  WAIT_TIMEOUT: ExitCode.UNAVAILABLE,
  // The URL answers, but not as buildflow; or it never answers within --timeout.
  NOT_BUILDFLOW: ExitCode.UNAVAILABLE,
  NO_ANSWER: ExitCode.UNAVAILABLE,
  INTERRUPTED: ExitCode.INTERRUPTED,
  ORDER_CANCELLED: ExitCode.ORDER_CANCELLED,
  CANNOT_LISTEN: ExitCode.CANNOT_LISTEN,
  UNHEALTHY: ExitCode.UNHEALTHY,
  THRESHOLDS_MISSED: ExitCode.THRESHOLDS_MISSED,
  CHECKS_FAILED: ExitCode.CHECKS_FAILED,
  COMPARE_FAILED: ExitCode.COMPARE_FAILED,
  FILE_UNREADABLE: ExitCode.REJECTED,
};

/** Exit code for an HTTP status whose error code we do not know. */
function byStatus(status: number): ExitCodeValue {
  if (status === 401 || status === 403) return ExitCode.UNAUTHORIZED;
  if (status === 404) return ExitCode.NOT_FOUND;
  if (status === 429 || status === 502 || status === 503 || status === 504) return ExitCode.UNAVAILABLE;
  if (status >= 400 && status < 500) return ExitCode.REJECTED;
  return ExitCode.INTERNAL;
}

/** Exit code for an error code, falling back to the HTTP status when the code is unknown. */
export function exitCodeFor(code: string, status?: number): ExitCodeValue {
  return BY_ERROR_CODE[code] ?? (status === undefined ? ExitCode.INTERNAL : byStatus(status));
}
