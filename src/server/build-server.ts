import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Buildflow } from '../core/buildflow.js';

export interface ServerOptions {
  /** Bearer key required by admin routes. */
  adminKey: string;
  /** Fastify logger option; default off. */
  logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body in bytes; default 256 KiB. */
  bodyLimit?: number;
}

/** Builds the HTTP API over an opened deployment; never listens. */
export async function buildServer(app: Buildflow, options: ServerOptions): Promise<FastifyInstance> {
  void app;
  return Fastify({ logger: options.logger ?? false, bodyLimit: options.bodyLimit ?? 256 * 1024 });
}
