import { describe, expect, it } from 'vitest';
import { runChecks, type CheckInput } from '../../../src/cli/loadtest/checks/checks.js';

const input = (money: CheckInput['money']): CheckInput => ({
  records: [],
  snapshot: { orders: new Map(), payments: [], notifications: [], products: [], drift: [] },
  initialStock: {},
  stockSetAt: 0,
  chaos: [],
  settled: true,
  settleTimeoutMs: 1000,
  doctor: { skipped: 'not here' },
  money,
});
const moneyCheck = (money: CheckInput['money']) => runChecks(input(money)).find((c) => c.name === 'money-reconciles')!;

describe('the money-reconciles check', () => {
  it('when every order of the run adds up, then it passes and says how many were read', () => {
    expect(moneyCheck({ checked: 12, settling: [], mismatches: [] })).toMatchObject({ status: 'pass', count: 0, detail: expect.stringMatching(/^the money of all 12 orders of the run adds up/) });
  });

  it("when an order does not add up or never settled, then it fails naming each, with reconcile-money's words", () => {
    const c = moneyCheck({ checked: 12, settling: ['o-2'], mismatches: [{ orderId: 'o-1', reference: 'BF-1', problem: 'refunded 900 exceeds captured 500' }] });
    expect(c).toMatchObject({ status: 'fail', count: 2, samples: ['o-1', 'o-2'] });
    expect(c.worst!.message).toBe('order BF-1 (o-1): refunded 900 exceeds captured 500');
    expect(c.detail).toBe('2 orders of the run whose money does not add up or never settled');
  });

  it('when the deployment is not loadtest\'s own, then it is skipped with the reason', () => {
    expect(moneyCheck({ skipped: 'needs the database' })).toMatchObject({ status: 'skip', detail: 'needs the database' });
  });
});
