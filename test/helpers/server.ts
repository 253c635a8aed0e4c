import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ConfigOverrides } from '../../src/core/config.js';
import type { OpenOptions } from '../../src/core/buildflow.js';
import { buildServer, type ServerOptions } from '../../src/server/build-server.js';
import { openTestApp, type TestApp } from './test-app.js';
import type { Backend } from './backends.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` };

export interface TestServer {
  app: TestApp;
  server: FastifyInstance;
  /** Injects a request and parses its JSON body. */
  request(options: InjectOptions): Promise<LightMyRequestResponse & { data: any }>;
  /** {@link request} with the admin key (unless the options carry their own authorization). */
  admin(options: InjectOptions): Promise<LightMyRequestResponse & { data: any }>;
  /** {@link request} with a bearer token. */
  as(token: string, options: InjectOptions): Promise<LightMyRequestResponse & { data: any }>;
  /** Closes the server, then the app, and deletes its data. */
  dispose(): Promise<void>;
}

/** A migrated test deployment with the HTTP API built over it (not listening). */
export async function openTestServer(
  overrides: ConfigOverrides = {},
  serverOptions: Partial<ServerOptions> = {},
  openOptions: OpenOptions = {},
): Promise<TestServer> {
  const backend = (process.env.BUILDFLOW_TEST_SERVER_BACKEND ?? 'sqlite') as Backend;
  const app = await openTestApp(overrides, openOptions, backend);
  const server = await buildServer(app, { adminKey: ADMIN_KEY, ...serverOptions });
  await server.ready();
  const request: TestServer['request'] = async (options) => {
    const res = await server.inject(options);
    const type = String(res.headers['content-type'] ?? '');
    return Object.assign(res, { data: type.startsWith('application/json') ? res.json() : undefined });
  };
  const withAuth = (authorization: string, options: InjectOptions): InjectOptions => ({
    ...options,
    headers: { authorization, ...(options.headers ?? {}) },
  });
  return {
    app,
    server,
    request,
    admin: (options) => request(withAuth(ADMIN.authorization, options)),
    as: (token, options) => request(withAuth(`Bearer ${token}`, options)),
    async dispose() {
      await server.close();
      await app.dispose();
    },
  };
}
