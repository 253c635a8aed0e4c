import { expect } from 'vitest';
import type { TestServer } from './server.js';

let counter = 0;

export interface TestCustomer {
  id: string;
  email: string;
  password: string;
  token: string;
}

/** Signs a new customer up through the API and signs them in. */
export async function signUp(t: TestServer, name = 'customer'): Promise<TestCustomer> {
  counter += 1;
  const email = `${name}-${counter}-${Date.now()}@example.com`;
  const password = `correct horse ${counter}`;
  const created = await t.request({ method: 'POST', url: '/v1/customers', payload: { email, name, password }, remoteAddress: `10.9.${counter % 250}.1` });
  expect(created.statusCode, created.body).toBe(201);
  const token = await signIn(t, email, password);
  return { id: created.data.id, email, password, token };
}

/** POST /v1/auth/token; returns the token. */
export async function signIn(t: TestServer, email: string, password: string): Promise<string> {
  const res = await t.request({ method: 'POST', url: '/v1/auth/token', payload: { email, password }, remoteAddress: `10.8.${counter % 250}.1` });
  expect(res.statusCode, res.body).toBe(200);
  return res.data.token as string;
}
