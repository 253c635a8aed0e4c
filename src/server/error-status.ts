import { ErrorCodes, type ErrorCode } from '../core/errors.js';

/** Failures that only exist at the HTTP edge; core never raises these. */
export const ServerErrorCodes = {
  BAD_REQUEST: 'BAD_REQUEST',
  INVALID_JSON: 'INVALID_JSON',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  URI_TOO_LONG: 'URI_TOO_LONG',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL: 'INTERNAL',
} as const;

export type ServerErrorCode = (typeof ServerErrorCodes)[keyof typeof ServerErrorCodes];

/** Every code a client can see in `{ error: { code, message } }`. */
export type ApiErrorCode = ErrorCode | ServerErrorCode;

/**
 * The one table from error code to HTTP status. Typed as a total record, so a new core code does
 * not compile until it is mapped here.
 */
export const ERROR_STATUS: Readonly<Record<ApiErrorCode, number>> = {
  [ErrorCodes.VALIDATION_FAILED]: 400,
  [ErrorCodes.UNKNOWN_SKU]: 422,
  [ErrorCodes.PRODUCT_NOT_FOUND]: 404,
  [ErrorCodes.ORDER_NOT_FOUND]: 404,
  [ErrorCodes.DEAD_LETTER_NOT_FOUND]: 404,
  [ErrorCodes.STEP_UNKNOWN]: 404,
  [ErrorCodes.ORDER_NOT_CANCELLABLE]: 409,
  [ErrorCodes.REFUND_EXCEEDS_CAPTURED]: 409,
  [ErrorCodes.RETURN_NOT_FOUND]: 404,
  [ErrorCodes.RETURN_EXCEEDS_PURCHASED]: 409,
  [ErrorCodes.RETURN_NOT_ALLOWED]: 409,
  [ErrorCodes.RETURN_WINDOW_CLOSED]: 409,
  [ErrorCodes.RETURN_ALREADY_RECEIVED]: 409,
  [ErrorCodes.STOCK_BELOW_RESERVED]: 409,
  [ErrorCodes.IDEMPOTENCY_KEY_REUSED]: 422,
  [ErrorCodes.IDEMPOTENCY_KEY_IN_FLIGHT]: 409,
  [ErrorCodes.CUSTOMER_NOT_FOUND]: 404,
  [ErrorCodes.EMAIL_TAKEN]: 409,
  [ErrorCodes.INVALID_CREDENTIALS]: 401,
  [ErrorCodes.TOKEN_INVALID]: 401,
  [ErrorCodes.TOO_MANY_OPEN_ORDERS]: 409,
  [ErrorCodes.SHIPMENT_NOT_FOUND]: 404,
  [ErrorCodes.SHIPMENT_TRANSITION_INVALID]: 409,
  [ErrorCodes.WEBHOOK_NOT_FOUND]: 404,
  [ErrorCodes.WEBHOOK_DELIVERY_NOT_FOUND]: 404,
  [ErrorCodes.WEBHOOK_URL_INVALID]: 400,
  [ErrorCodes.WEBHOOK_URL_FORBIDDEN]: 400,
  [ErrorCodes.WEBHOOK_EVENT_UNKNOWN]: 400,
  // A replay to a disabled endpoint would wait for `enable` unseen: refused until it is enabled.
  [ErrorCodes.WEBHOOK_ENDPOINT_DISABLED]: 409,
  [ErrorCodes.CONFIG_INVALID]: 500,
  [ErrorCodes.UNAVAILABLE]: 503,
  [ServerErrorCodes.BAD_REQUEST]: 400,
  [ServerErrorCodes.INVALID_JSON]: 400,
  [ServerErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ServerErrorCodes.METHOD_NOT_ALLOWED]: 405,
  [ServerErrorCodes.URI_TOO_LONG]: 414,
  [ServerErrorCodes.HEADERS_TOO_LARGE]: 431,
  [ServerErrorCodes.REQUEST_TIMEOUT]: 408,
  [ServerErrorCodes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ServerErrorCodes.NOT_FOUND]: 404,
  [ServerErrorCodes.UNAUTHORIZED]: 401,
  [ServerErrorCodes.FORBIDDEN]: 403,
  [ServerErrorCodes.RATE_LIMITED]: 429,
  [ServerErrorCodes.INTERNAL]: 500,
};

/** Fastify's own request errors (content-type parser, routing) and the code a client sees for each. */
export const FASTIFY_ERROR_CODES: Readonly<Record<string, ServerErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ServerErrorCodes.INVALID_JSON,
  FST_ERR_CTP_EMPTY_JSON_BODY: ServerErrorCodes.INVALID_JSON,
  FST_ERR_CTP_BODY_TOO_LARGE: ServerErrorCodes.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ServerErrorCodes.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ServerErrorCodes.BAD_REQUEST,
  FST_ERR_NOT_FOUND: ServerErrorCodes.NOT_FOUND,
};
