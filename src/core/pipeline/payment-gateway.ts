/**
 * The payment provider port. Every call carries an idempotency key derived from the payment-ledger
 * row it settles (see payments/ledger.ts): a call repeated under the same key returns the first
 * answer and never moves money twice.
 */

export interface AuthorizeRequest {
  /** The authorization's key: the same order always authorizes under the same key. */
  idempotencyKey: string;
  amountCents: number;
}

export interface AuthorizeResult {
  outcome: 'authorized' | 'declined';
  /** The provider's reference of the authorization, which later captures, voids and refunds name. */
  providerRef: string;
}

/** A capture, void or refund against an authorization. A void releases what is still uncaptured. */
export interface MoneyRequest {
  idempotencyKey: string;
  /** The authorization's provider reference. */
  authorizationRef: string;
  amountCents: number;
}

export interface MoneyResult {
  /** `failed`: the provider refused (more than is left to capture, void or refund, or a voided authorization). */
  outcome: 'succeeded' | 'failed';
  providerRef: string;
}

/**
 * What the pipeline needs from a payment provider: authorize at pay, capture (partly or fully) at
 * confirm or at shipment, void what was never captured, refund what was. All idempotent by key.
 */
export interface PaymentGateway {
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
  /**
   * Optional: many authorizations in one call (the results in the order of the requests), for
   * providers with a batch API. The pipeline uses it when present and falls back to
   * {@link authorize} one by one when it fails.
   */
  authorizeAll?(requests: readonly AuthorizeRequest[]): Promise<AuthorizeResult[]>;
  capture(request: MoneyRequest): Promise<MoneyResult>;
  /** Optional: many captures in one call, as {@link authorizeAll} is for authorizations. */
  captureAll?(requests: readonly MoneyRequest[]): Promise<MoneyResult[]>;
  void(request: MoneyRequest): Promise<MoneyResult>;
  refund(request: MoneyRequest): Promise<MoneyResult>;
}

export { SimulatedPaymentGateway, type SimulatedGatewayOptions } from './simulated-gateway.js';
