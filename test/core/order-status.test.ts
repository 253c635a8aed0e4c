import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES, canTransition, isSettled } from '../../src/core/domain/order-status.js';

describe('order state machine', () => {
  it('when following the happy path, then every step is allowed', () => {
    const path = ['pending', 'reserved', 'paid', 'confirmed', 'shipped', 'delivered'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  it('when skipping or going backwards, then the transition is refused', () => {
    expect(canTransition('pending', 'paid')).toBe(false);
    expect(canTransition('reserved', 'confirmed')).toBe(false);
    expect(canTransition('paid', 'reserved')).toBe(false);
    expect(canTransition('delivered', 'shipped')).toBe(false);
  });

  it('when an order is shipped or final, then it can no longer be cancelled', () => {
    for (const s of ['pending', 'reserved', 'paid', 'confirmed'] as const) expect(canTransition(s, 'cancelled')).toBe(true);
    for (const s of ['shipped', 'delivered', 'cancelled'] as const) expect(canTransition(s, 'cancelled')).toBe(false);
  });

  it('when an order is cancelled or delivered, then nothing follows', () => {
    for (const to of ORDER_STATUSES) {
      expect(canTransition('cancelled', to)).toBe(false);
      expect(canTransition('delivered', to)).toBe(false);
    }
  });

  it('when the outcome is decided, then the order counts as settled', () => {
    expect(ORDER_STATUSES.filter(isSettled)).toEqual(['confirmed', 'shipped', 'delivered', 'cancelled']);
  });
});
