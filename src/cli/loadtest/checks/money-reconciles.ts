import type { Deployment } from '../deployment/deployment.js';

/** One order of the run whose money does not add up (DESIGN.md, "Money"), as core's reconciliation names it. */
export interface MoneyMismatchInput {
  orderId: string;
  reference: string;
  problem: string;
}

/** What the `money-reconciles` check judges: the run's orders against the payment ledger, once settled. */
export type MoneyInput = { checked: number; settling: string[]; mismatches: MoneyMismatchInput[] } | { skipped: string };

const POLL_MS = 250;
const OPEN_TIMEOUT_MS = 5_000;

/**
 * Reads the deployment's payment ledger for the orders created since `since` (the run's) with
 * core's reconciliation (src/core/payments/reconcile-money.ts: the rules live there only). Money
 * a refund or a cancel after payment moves settles by a message of its own after the order is
 * final, so this waits up to `timeoutMs` for no ledger row to be pending and no refund queued.
 */
export async function reconcileRunMoney(deployment: Deployment, since: number, timeoutMs: number): Promise<MoneyInput> {
  const [{ openDatabase, closeStorage }, { reconcileMoney }] = await Promise.all([import('../../../core/doctor/database-checks.js'), import('../../../core/payments/reconcile-money.js')]);
  const { storage, check } = await openDatabase(await deployment.config(), OPEN_TIMEOUT_MS);
  if (!storage) return { skipped: `the deployment's database did not open: ${check.detail}` };
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await reconcileMoney(storage.db, { since });
      if (r.settling.length === 0 || Date.now() >= deadline) {
        return { checked: r.checked, settling: r.settling, mismatches: r.mismatches.map((m) => ({ orderId: m.orderId, reference: m.reference, problem: m.problem })) };
      }
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  } finally {
    await closeStorage(storage, OPEN_TIMEOUT_MS);
  }
}
