/**
 * Every exit code of the CLI, in one table. Scripts rely on these numbers: never renumber, only add.
 */
export const ExitCode = {
  /** The command did what was asked. */
  OK: 0,
  /** A bug or an unexpected failure (server 500, unknown error). */
  INTERNAL: 1,
  /** Bad command line: unknown command or flag, bad flag value, invalid configuration. */
  USAGE: 2,
  /** The product, order or dead letter does not exist. */
  NOT_FOUND: 3,
  /** The input was rejected: validation (400), conflict (409), unprocessable (422), unknown sku. */
  REJECTED: 4,
  /**
   * The server cannot be reached or is unavailable (connection refused, 503), or a wait timed out;
   * or a command that starts or sets up a deployment cannot reach its Postgres, Redis or SMTP server.
   */
  UNAVAILABLE: 5,
  /** `order create --wait`: the order ended cancelled. */
  ORDER_CANCELLED: 6,
  /** The server refused the credentials (401/403). */
  UNAUTHORIZED: 7,
  /** `serve`: the address cannot be listened on (in use, no permission). */
  CANNOT_LISTEN: 8,
  /**
   * `doctor`: at least one check failed (warnings alone exit 0). A command that reads a deployment
   * (`dead-letters`) finds no database there, or one never migrated: doctor's failure, its code.
   */
  UNHEALTHY: 9,
  /** `loadtest`: every check passed but a threshold (latency, throughput, error rate) was missed. */
  THRESHOLDS_MISSED: 10,
  /** `loadtest`: a correctness check failed (lost, oversold, double-charged or stuck orders…); wins over 10. */
  CHECKS_FAILED: 11,
  /** `loadtest compare` / `--baseline`: slower, more erring or less correct than the baseline past a tolerance; 11 wins over it, it over 10. */
  COMPARE_FAILED: 12,
  /** Interrupted by Ctrl-C (SIGINT), as shells report it (128 + 2); work already accepted goes on. */
  INTERRUPTED: 130,
} as const;

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
