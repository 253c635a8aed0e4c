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
export function untilShutdown(logger: Logger, close: () => Promise<void>, starting?: StartingProcess): Promise<void> {
  const early = starting?.release();
  if (early) {
    // Asked to stop while it was starting: it is started now, so it stops the same clean way.
    logger.info({ signal: early }, 'shutting down: the signal came while starting');
    return close().then(() => process.exit(0));
  }
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

/** A long-running command between its first line and {@link untilShutdown}. */
export interface StartingProcess {
  /** Stops keeping signals; returns the one that came meanwhile, if any. */
  release(): string | undefined;
}

/**
 * Keeps a SIGTERM or SIGINT that comes while a long-running command starts (a supervisor stopping
 * it before `ready`): without a listener, the signal's default action would end the process
 * uncleanly, mid-migration or mid-connection. {@link untilShutdown} then obeys it once started.
 */
export function keepSignalsWhileStarting(): StartingProcess {
  let signal: string | undefined;
  const note = (s: string) => (signal ??= s);
  process.on('SIGTERM', note);
  process.on('SIGINT', note);
  return {
    release() {
      process.off('SIGTERM', note);
      process.off('SIGINT', note);
      return signal;
    },
  };
}
