/**
 * Values under increasing integer ids (1, 2, 3, …), kept in a ring that only grows while many are
 * outstanding: the shape of requests waiting for an answer from another thread.
 *
 * Why not a Map: a Map that takes and drops an entry per request rehashes into a new table every
 * few hundred requests. Its tables soon live in V8's old generation, and each discarded table
 * still points at the requests that were waiting when it was replaced. The young-generation
 * collector treats those pointers as live, so every waiting request's objects (promises, the
 * HTTP request and reply, the answer text) were promoted to the old generation, to be marked and
 * swept there: ~1,100 bytes per order at intake against 17 per echo request (V8's sampling heap
 * profiler, objects that outlived the young generation); ~290 with this ring. Here a slot is
 * cleared as soon as its value is taken, and an outgrown ring is emptied before it is dropped.
 */
export class SequentialSlots<T> {
  private ring: (T | undefined)[] = new Array<T | undefined>(256).fill(undefined);
  /** Lowest id that may still hold a value. */
  private low = 1;
  /** One past the highest id given a value. */
  private high = 1;

  /** Stores `value` under `id`, which must be above every id stored before. */
  set(id: number, value: T): void {
    if (id < this.high) throw new RangeError(`ids must increase: ${id} after ${this.high - 1}`);
    if (this.low === this.high) this.low = id;
    while (id - this.low >= this.ring.length) this.grow();
    this.ring[id % this.ring.length] = value;
    this.high = id + 1;
  }

  /** Removes and returns the value under `id`, if there is one. */
  take(id: number): T | undefined {
    if (id < this.low || id >= this.high) return undefined;
    const at = id % this.ring.length;
    const value = this.ring[at];
    this.ring[at] = undefined;
    while (this.low < this.high && this.ring[this.low % this.ring.length] === undefined) this.low++;
    return value;
  }

  /** No id holds a value (take moves `low` past every cleared slot, so it meets `high`). */
  get empty(): boolean {
    return this.low === this.high;
  }

  /** The ids that hold a value, lowest first. */
  ids(): number[] {
    const out: number[] = [];
    for (let id = this.low; id < this.high; id++) if (this.ring[id % this.ring.length] !== undefined) out.push(id);
    return out;
  }

  private grow(): void {
    const old = this.ring;
    const ring = new Array<T | undefined>(old.length * 2).fill(undefined);
    for (let id = this.low; id < this.high; id++) ring[id % ring.length] = old[id % old.length];
    // An outgrown ring must not keep its values reachable (see the class comment).
    old.fill(undefined);
    this.ring = ring;
  }
}
