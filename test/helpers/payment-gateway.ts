import type { AuthorizeRequest, AuthorizeResult, MoneyRequest, MoneyResult, PaymentGateway } from '../../src/core/pipeline/payment-gateway.js';

/**
 * A scripted provider for tests whose story is the authorization: `authorize` as given, and every
 * capture, void and refund accepted (a test about those uses the simulated provider's books).
 */
export function scriptedGateway(authorize: (request: AuthorizeRequest) => Promise<AuthorizeResult>, rest: Partial<PaymentGateway> = {}): PaymentGateway {
  const accept = async (r: MoneyRequest): Promise<MoneyResult> => ({ outcome: 'succeeded', providerRef: `ref-${r.idempotencyKey}` });
  return { authorize, capture: accept, void: accept, refund: accept, ...rest };
}
