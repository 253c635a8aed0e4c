/**
 * Every failure a caller can act on carries a stable code. The server maps codes to HTTP statuses
 * (src/server/error-status.ts) and the CLI maps them to exit codes (src/cli/exit-codes.ts);
 * nothing else inspects messages.
 */
export const ErrorCodes = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNKNOWN_SKU: 'UNKNOWN_SKU',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  DEAD_LETTER_NOT_FOUND: 'DEAD_LETTER_NOT_FOUND',
  STEP_UNKNOWN: 'STEP_UNKNOWN',
  ORDER_NOT_CANCELLABLE: 'ORDER_NOT_CANCELLABLE',
  REFUND_EXCEEDS_CAPTURED: 'REFUND_EXCEEDS_CAPTURED',
  RETURN_NOT_FOUND: 'RETURN_NOT_FOUND',
  RETURN_EXCEEDS_PURCHASED: 'RETURN_EXCEEDS_PURCHASED',
  RETURN_NOT_ALLOWED: 'RETURN_NOT_ALLOWED',
  RETURN_WINDOW_CLOSED: 'RETURN_WINDOW_CLOSED',
  RETURN_ALREADY_RECEIVED: 'RETURN_ALREADY_RECEIVED',
  STOCK_BELOW_RESERVED: 'STOCK_BELOW_RESERVED',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_KEY_IN_FLIGHT: 'IDEMPOTENCY_KEY_IN_FLIGHT',
  CUSTOMER_NOT_FOUND: 'CUSTOMER_NOT_FOUND',
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  TOKEN_INVALID: 'TOKEN_INVALID',
  TOO_MANY_OPEN_ORDERS: 'TOO_MANY_OPEN_ORDERS',
  SHIPMENT_NOT_FOUND: 'SHIPMENT_NOT_FOUND',
  SHIPMENT_TRANSITION_INVALID: 'SHIPMENT_TRANSITION_INVALID',
  WEBHOOK_NOT_FOUND: 'WEBHOOK_NOT_FOUND',
  WEBHOOK_DELIVERY_NOT_FOUND: 'WEBHOOK_DELIVERY_NOT_FOUND',
  WEBHOOK_URL_INVALID: 'WEBHOOK_URL_INVALID',
  WEBHOOK_URL_FORBIDDEN: 'WEBHOOK_URL_FORBIDDEN',
  WEBHOOK_EVENT_UNKNOWN: 'WEBHOOK_EVENT_UNKNOWN',
  WEBHOOK_ENDPOINT_DISABLED: 'WEBHOOK_ENDPOINT_DISABLED',
  CONFIG_INVALID: 'CONFIG_INVALID',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** A failure with a stable {@link ErrorCode}; `message` is safe to show to the caller. */
export class BuildflowError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'BuildflowError';
    this.code = code;
    if (details) this.details = details;
  }
}

/** True when `err` is a {@link BuildflowError}, optionally with the given code. */
export function isBuildflowError(err: unknown, code?: ErrorCode): err is BuildflowError {
  return err instanceof BuildflowError && (code === undefined || err.code === code);
}
