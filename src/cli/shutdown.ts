import closeWithGrace from 'close-with-grace';
import type { Logger } from '../worker/logger.js';
import { SHUTDOWN_GRACE_MS } from '../core/defaults.js';

// How long a graceful shutdown may take before the process is ended: the sum of the bounds it nests
// (HTTP drain, worker drain, closing), so a clean drain always ends first and exits 0.
const GRACE_MS = SHUTDOWN_GRACE_MS;

/**
 * Resolves once SIGINT/SIGTERM arrived and `close` finished. close-with-grace ends the process
 * itself right after (exit 0, or 1 on a second signal, a timeout or an error during close): a
 * long-running command has no other way to stop after a signal.
 */
export function untilShutdown(logger: Logger, close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    closeWithGrace(
      { delay: GRACE_MS, logger: { error: (msg: unknown) => logger.error({ detail: msg instanceof Error ? msg.message : String(msg) }, 'shutdown problem') } },
      async ({ signal, err }) => {
        if (err) logger.error({ err }, 'closing after an unexpected error');
        else logger.info({ signal }, 'shutting down');
        await close();
        logger.info({}, 'stopped');
        resolve();
      },
    );
  });
}
