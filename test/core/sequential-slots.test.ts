import { describe, expect, it } from 'vitest';
import { SequentialSlots } from '../../src/core/sequential-slots.js';

describe('sequential slots', () => {
  it('when values are taken in any order, then each id gives back its own value once', () => {
    const slots = new SequentialSlots<string>();
    for (let id = 1; id <= 5; id++) slots.set(id, `v${id}`);
    expect(slots.take(3)).toBe('v3');
    expect(slots.take(3)).toBeUndefined();
    expect(slots.take(1)).toBe('v1');
    expect(slots.ids()).toEqual([2, 4, 5]);
    expect([slots.take(5), slots.take(2), slots.take(4)]).toEqual(['v5', 'v2', 'v4']);
    expect(slots.ids()).toEqual([]);
  });

  it('when every value has been taken, in any order, then the slots are empty until the next is set', () => {
    const slots = new SequentialSlots<string>();
    expect(slots.empty).toBe(true);
    for (let id = 1; id <= 3; id++) slots.set(id, `v${id}`);
    slots.take(2);
    slots.take(3);
    expect(slots.empty).toBe(false);
    slots.take(1);
    expect(slots.empty).toBe(true);
    slots.take(1);
    expect(slots.empty).toBe(true);
    slots.set(4, 'v4');
    expect(slots.empty).toBe(false);
  });

  it('when far more values are outstanding than the ring first holds, then it grows and loses none', () => {
    const slots = new SequentialSlots<number>();
    for (let id = 1; id <= 2_000; id++) slots.set(id, id * 10);
    // Take every other one, then add more on top of the gaps.
    for (let id = 1; id <= 2_000; id += 2) expect(slots.take(id)).toBe(id * 10);
    for (let id = 2_001; id <= 3_000; id++) slots.set(id, id * 10);
    const ids = slots.ids();
    expect(ids).toHaveLength(1_000 + 1_000);
    for (const id of ids) expect(slots.take(id)).toBe(id * 10);
    expect(slots.ids()).toEqual([]);
  });

  it('when ids run far past the first ring size with only a few outstanding, then each is still found', () => {
    const slots = new SequentialSlots<number>();
    for (let id = 1; id <= 100_000; id++) {
      slots.set(id, id);
      if (id > 3) expect(slots.take(id - 3)).toBe(id - 3);
    }
    expect(slots.ids()).toEqual([99_998, 99_999, 100_000]);
  });

  it('when an id does not increase, then it is refused and nothing changes', () => {
    const slots = new SequentialSlots<string>();
    slots.set(7, 'a');
    expect(() => slots.set(7, 'b')).toThrow(RangeError);
    expect(() => slots.set(3, 'c')).toThrow(RangeError);
    expect(slots.take(7)).toBe('a');
    expect(slots.take(3)).toBeUndefined();
  });
});
