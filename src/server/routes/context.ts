import type { Buildflow } from '../../core/buildflow.js';

/** What every route plugin is registered with. */
export interface RouteOptions {
  app: Buildflow;
  adminKey: string;
  /** Key of the HMAC under which sign-in tokens are stored. */
  tokenSecret: string;
}
