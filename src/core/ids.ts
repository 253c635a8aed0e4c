import { randomBytes } from 'node:crypto';

// Crockford base32 without I, L, O, U: references are read aloud and typed by hand.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// Random bytes are drawn from a pooled buffer: one system call per 4 KiB instead of one per id.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function random(length: number): Buffer {
  if (offset + length > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  // A copy, so a caller that writes into it cannot touch bytes handed out later.
  const out = Buffer.from(pool.subarray(offset, offset + length));
  offset += length;
  return out;
}

function code(length: number): string {
  const bytes = random(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

/**
 * A new order id: a UUID version 7 (RFC 9562), whose leading 48 bits are the time in ms. New ids
 * sort after old ones, so every index keyed by order id grows at its end instead of touching a
 * random page per insert, which keeps each commit's write set small.
 */
export function newOrderId(now = Date.now()): string {
  const bytes = random(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The short human reference of order number `n` (1, 2, …), such as `BF-0000007K`: the number in
 * Crockford base32, at least 8 digits. Numbers are drawn in the database (orders/reference-numbers.ts).
 */
export function orderReference(n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`order reference number must be a positive integer, not ${n}`);
  let digits = '';
  for (let v = n; v > 0; v = Math.floor(v / 32)) digits = ALPHABET[v % 32]! + digits;
  return `BF-${digits.padStart(8, '0')}`;
}

/** A carrier-style tracking code such as `TRK7K3M9QX2AB4C`; uniqueness enforced by the schema. */
export function newTrackingCode(): string {
  return `TRK${code(12)}`;
}
