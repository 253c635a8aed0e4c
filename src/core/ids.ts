import { randomBytes, randomUUID } from 'node:crypto';

// Crockford base32 without I, L, O, U: references are read aloud and typed by hand.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function code(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

/** A new order id (UUID v4). */
export function newOrderId(): string {
  return randomUUID();
}

/** A short human reference such as `BF-7K3M9QX2`; 40 random bits, uniqueness enforced by the schema. */
export function newOrderReference(): string {
  return `BF-${code(8)}`;
}

/** A carrier-style tracking code such as `TRK7K3M9QX2AB4C`; uniqueness enforced by the schema. */
export function newTrackingCode(): string {
  return `TRK${code(12)}`;
}
