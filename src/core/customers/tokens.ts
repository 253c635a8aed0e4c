import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { normalizeEmail } from './customers.js';
import { hashPassword, verifyPassword } from './password.js';

/**
 * Sign-in tokens are opaque: `bft_` and 32 random bytes (base64url). The database keeps only
 * HMAC-SHA-256(token secret, token), so revocation is a row update and a leaked table signs nobody
 * in. There is no signature to forge and no algorithm to choose: anything not issued here is refused.
 */
export const TOKEN_PREFIX = 'bft_';
const TOKEN_SHAPE = /^bft_[A-Za-z0-9_-]{43}$/;

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

export interface TokenSettings {
  secret: string;
  ttlMs: number;
  scryptCost: number;
}

/** The form in which a token is stored and looked up: HMAC-SHA-256 under the token secret, hex. */
export function tokenHash(secret: string, token: string): string {
  return createHmac('sha256', secret).update(token, 'utf8').digest('hex');
}

// Verified when the email is unknown, so a wrong email costs as much time as a wrong password.
const dummyHashes = new Map<number, Promise<string>>();
function dummyHash(cost: number): Promise<string> {
  let hash = dummyHashes.get(cost);
  if (!hash) dummyHashes.set(cost, (hash = hashPassword(randomBytes(16).toString('hex'), cost)));
  return hash;
}

/**
 * Exchanges an email and password for a new token, stored durably before it is handed out. The
 * password is checked before the unit of work, so no transaction waits on scrypt.
 * @throws BuildflowError INVALID_CREDENTIALS for an unknown email, a wrong password or a disabled
 * customer alike, so the answer does not tell which.
 */
export async function signIn(units: UnitRunner, email: string, password: string, s: TokenSettings): Promise<IssuedToken> {
  const customer = await units.db
    .selectFrom('customers')
    .select(['id', 'password_hash', 'disabled'])
    .where('email', '=', normalizeEmail(email))
    .executeTakeFirst();
  const ok = await verifyPassword(password, customer?.password_hash ?? (await dummyHash(s.scryptCost)));
  if (!customer || !ok || customer.disabled === 1) throw new BuildflowError('INVALID_CREDENTIALS', 'wrong email or password');
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const expiresAt = await units.run(
    async (uow) => {
      const expires = uow.now + s.ttlMs;
      await uow.trx
        .insertInto('auth_tokens')
        .values({ token_hash: tokenHash(s.secret, token), customer_id: customer.id, created_at: uow.now, expires_at: expires, revoked_at: null })
        .execute();
      uow.noteChange({ kind: 'auth_token', id: customer.id, action: 'created' });
      return expires;
    },
    { durable: true },
  );
  return { token, expiresAt: new Date(expiresAt).toISOString() };
}

/**
 * The customer a token belongs to, if it was issued here, has not expired or been revoked, and its
 * customer is not disabled.
 * @throws BuildflowError TOKEN_INVALID otherwise (one message for every reason).
 */
export async function authenticateToken(db: Kysely<Database>, secret: string, token: string, now = Date.now()): Promise<{ customerId: string }> {
  const invalid = new BuildflowError('TOKEN_INVALID', 'the token is invalid, expired or revoked');
  if (!TOKEN_SHAPE.test(token)) throw invalid;
  const row = await db
    .selectFrom('auth_tokens')
    .innerJoin('customers', 'customers.id', 'auth_tokens.customer_id')
    .select(['auth_tokens.customer_id', 'auth_tokens.expires_at', 'auth_tokens.revoked_at', 'customers.disabled'])
    .where('auth_tokens.token_hash', '=', tokenHash(secret, token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || row.expires_at <= now || row.disabled === 1) throw invalid;
  return { customerId: row.customer_id };
}

/** Revokes one token (sign-out), durably; revoking twice is harmless. */
export async function revokeToken(units: UnitRunner, secret: string, token: string): Promise<void> {
  await units.run(
    async (uow) => {
      const revoked = await uow.trx
        .updateTable('auth_tokens')
        .set({ revoked_at: uow.now })
        .where('token_hash', '=', tokenHash(secret, token))
        .where('revoked_at', 'is', null)
        .returning('customer_id')
        .executeTakeFirst();
      if (revoked) uow.noteChange({ kind: 'auth_token', id: revoked.customer_id, action: 'updated' });
    },
    { durable: true },
  );
}
