import type { LedgerKind } from '../db/schema.js';

/** The payment ledger's kinds, in the order money moves. */
export const MONEY_KINDS: readonly LedgerKind[] = ['authorization', 'capture', 'void', 'refund'];

/** Cents of the provider calls of one ledger kind that have their answer, cumulative. */
export interface MoneyMovements {
  succeededCents: number;
  failedCents: number;
}

/** The deployment's money (DESIGN.md, "Money"), from the ledger's trigger-kept counters (migration 0017). */
export interface MoneyStats {
  capturedCents: number;
  refundedCents: number;
  /** Authorized and neither captured nor voided: what customers' cards still hold for orders. */
  authorizedNotCapturedCents: number;
  byKind: Record<LedgerKind, MoneyMovements>;
}

/** Reads the money totals out of the counters (`money:<kind>:<outcome>`, in cents). */
export function moneyFromCounters(counter: (name: string) => number): MoneyStats {
  const byKind = Object.fromEntries(
    MONEY_KINDS.map((k) => [k, { succeededCents: counter(`money:${k}:succeeded`), failedCents: counter(`money:${k}:failed`) }]),
  ) as Record<LedgerKind, MoneyMovements>;
  const moved = (k: LedgerKind) => byKind[k].succeededCents;
  return {
    capturedCents: moved('capture'),
    refundedCents: moved('refund'),
    authorizedNotCapturedCents: Math.max(0, moved('authorization') - moved('capture') - moved('void')),
    byKind,
  };
}
