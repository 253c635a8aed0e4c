import type { PaymentGateway } from './payment-gateway.js';
import type { LedgerAnswer, LedgerCall } from '../payments/ledger.js';

/** Makes the provider call a ledger row stands for, under the row's key; throws when the provider did not answer. */
export async function callProvider(gateway: PaymentGateway, call: LedgerCall): Promise<LedgerAnswer> {
  const key = call.idempotencyKey;
  if (call.kind === 'authorization') {
    const r = await gateway.authorize({ idempotencyKey: key, amountCents: call.amountCents });
    return { idempotencyKey: key, status: r.outcome === 'authorized' ? 'succeeded' : 'failed', providerRef: r.providerRef };
  }
  if (!call.authorizationRef) throw new Error(`${call.kind} ${key} has no authorization to act on`);
  const request = { idempotencyKey: key, authorizationRef: call.authorizationRef, amountCents: call.amountCents };
  const r = call.kind === 'capture' ? await gateway.capture(request) : call.kind === 'void' ? await gateway.void(request) : await gateway.refund(request);
  return { idempotencyKey: key, status: r.outcome, providerRef: r.providerRef };
}

/** Makes calls one after another (a later one may depend on an earlier one's money). */
export async function callAll(gateway: PaymentGateway, calls: readonly LedgerCall[]): Promise<LedgerAnswer[]> {
  const out: LedgerAnswer[] = [];
  for (const c of calls) out.push(await callProvider(gateway, c));
  return out;
}

/**
 * The calls of a batch's plans, one per order: captures in one request where the provider takes
 * them so (`captureAll`), anything else one call each, all at once.
 */
export async function callEach(gateway: PaymentGateway, calls: readonly LedgerCall[]): Promise<LedgerAnswer[]> {
  const captureAll = gateway.captureAll?.bind(gateway);
  if (!captureAll || !calls.every((c) => c.kind === 'capture' && c.authorizationRef)) return Promise.all(calls.map((c) => callProvider(gateway, c)));
  const results = await captureAll(calls.map((c) => ({ idempotencyKey: c.idempotencyKey, authorizationRef: c.authorizationRef!, amountCents: c.amountCents })));
  return results.map((r, i) => ({ idempotencyKey: calls[i]!.idempotencyKey, status: r.outcome, providerRef: r.providerRef }));
}
