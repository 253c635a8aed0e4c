import { describe, expect, it } from 'vitest';
import { newOrderId, newTrackingCode, orderReference } from '../../src/core/ids.js';

describe('ids', () => {
  it('when order ids are made over time, then they are valid UUID v7 and sort by creation time', () => {
    const a = newOrderId(1_700_000_000_000);
    const b = newOrderId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(a.replace(/-/g, '').slice(0, 12)).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
  });

  it('when many ids are made, then none repeat and tracking codes use the unambiguous alphabet', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => newOrderId()));
    expect(ids.size).toBe(5000);
    expect(newTrackingCode()).toMatch(/^TRK[0-9A-HJKMNP-TV-Z]{12}$/);
  });

  it('when order numbers become references, then each is its number in Crockford base32, 8 digits at least, sorting as the numbers do', () => {
    expect(orderReference(1)).toBe('BF-00000001');
    expect(orderReference(32)).toBe('BF-00000010');
    expect(orderReference(31 * 32 + 18)).toBe('BF-000000ZJ');
    expect(orderReference(32 ** 8 - 1)).toBe('BF-ZZZZZZZZ');
    expect(orderReference(32 ** 8)).toBe('BF-100000000');
    const refs = Array.from({ length: 5000 }, (_, i) => orderReference(i * 7919 + 1));
    expect(new Set(refs).size).toBe(5000);
    for (const r of refs) expect(r).toMatch(/^BF-[0-9A-HJKMNP-TV-Z]{8}$/);
    expect([...refs].sort()).toEqual(refs);
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => orderReference(bad)).toThrow(RangeError);
  });
});
