import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { UnitRunner } from '../db/unit-of-work.js';
import { BuildflowError } from '../errors.js';
import { decodeCursor, encodeCursor, pageLimit, toPage, type Page } from '../pagination.js';
import { hashPassword } from './password.js';

/** A customer as every caller sees it; the password hash never leaves core. */
export interface CustomerView {
  id: string;
  email: string;
  name: string;
  disabled: boolean;
  createdAt: string;
}

export interface NewCustomer {
  email: string;
  name: string;
  password: string;
}

type CustomerRow = Database['customers'];

export function toCustomerView(row: Pick<CustomerRow, 'id' | 'email' | 'name' | 'disabled' | 'created_at'>): CustomerView {
  return { id: row.id, email: row.email, name: row.name, disabled: row.disabled === 1, createdAt: new Date(row.created_at).toISOString() };
}

/** Emails are compared without case and surrounding spaces. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Signs a customer up, durably. The password is hashed with scrypt at `scryptCost` off the event
 * loop, before the unit of work, so no transaction waits on it.
 * @throws BuildflowError EMAIL_TAKEN when a customer already has this email.
 */
export async function createCustomer(units: UnitRunner, input: NewCustomer, scryptCost: number): Promise<CustomerView> {
  const email = normalizeEmail(input.email);
  const password_hash = await hashPassword(input.password, scryptCost);
  return units.run(
    async (uow) => {
      const row = { id: randomUUID(), email, name: input.name.trim(), password_hash, disabled: 0, created_at: uow.now };
      const res = await uow.trx
        .insertInto('customers')
        .values(row)
        .onConflict((oc) => oc.column('email').doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0) throw new BuildflowError('EMAIL_TAKEN', 'a customer with this email already exists');
      uow.noteChange({ kind: 'customer', id: row.id, action: 'created' });
      return toCustomerView(row);
    },
    { durable: true },
  );
}

/** One customer by id. @throws BuildflowError CUSTOMER_NOT_FOUND */
export async function getCustomer(db: Kysely<Database>, id: string): Promise<CustomerView> {
  const row = await db.selectFrom('customers').select(['id', 'email', 'name', 'disabled', 'created_at']).where('id', '=', id).executeTakeFirst();
  if (!row) throw new BuildflowError('CUSTOMER_NOT_FOUND', `customer ${id} not found`);
  return toCustomerView(row);
}

/** Customers, newest first. */
export async function listCustomers(db: Kysely<Database>, q: { limit?: number; cursor?: string }): Promise<Page<CustomerView>> {
  const limit = pageLimit(q.limit);
  let query = db
    .selectFrom('customers')
    .select(['id', 'email', 'name', 'disabled', 'created_at'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (q.cursor) {
    const [createdAt, id] = decodeCursor(q.cursor, ['number', 'string'] as const);
    query = query.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
  }
  return toPage(await query.execute(), limit, (rows) => rows.map(toCustomerView), (r) => encodeCursor([r.created_at, r.id]));
}

/**
 * Disables a customer and revokes every token they hold, in one durable unit of work: they can no
 * longer sign in, and a token issued before is refused from now on.
 */
export async function disableCustomer(units: UnitRunner, id: string): Promise<CustomerView> {
  await units.run(
    async (uow) => {
      const res = await uow.trx.updateTable('customers').set({ disabled: 1 }).where('id', '=', id).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new BuildflowError('CUSTOMER_NOT_FOUND', `customer ${id} not found`);
      await uow.trx.updateTable('auth_tokens').set({ revoked_at: uow.now }).where('customer_id', '=', id).where('revoked_at', 'is', null).execute();
      uow.noteChange({ kind: 'customer', id, action: 'updated' });
    },
    { durable: true },
  );
  return getCustomer(units.db, id);
}
