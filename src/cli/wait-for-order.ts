import { isSettled } from '../core/domain/order-status.js';
import type { OrderView } from '../core/orders/order-view.js';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import type { ApiClient } from './http-client.js';
import { DEFAULTS } from '../core/defaults.js';

// `--wait` stops once the order is settled (isSettled): the pipeline has decided it, and shipping
// is driven from outside.
const FIRST_POLL_MS = DEFAULTS.cli.orderPollFirstMs;
const MAX_POLL_MS = DEFAULTS.cli.orderPollMaxMs;

/**
 * Polls an order until the pipeline has settled it. The reference is said on stderr first; progress goes to stderr, and only when stderr
 * is a terminal. A timeout is reported as "unavailable": the pipeline is not keeping up. Ctrl-C
 * (SIGINT) stops the waiting, not the order: it ends in INTERRUPTED (exit 130) with the order's
 * reference, its last seen status and how to follow it.
 */
export async function waitForOrder(client: ApiClient, order: OrderView, timeoutMs: number): Promise<OrderView> {
  const deadline = Date.now() + timeoutMs;
  const progress = process.stderr.isTTY === true;
  let current = order;
  let shown = '';
  let interrupt!: () => void;
  const interrupted = new Promise<never>((_, reject) => {
    interrupt = () => {
      client.abort();
      reject(
        new CliError('INTERRUPTED', `order ${current.reference} placed, status ${current.status}; follow it with \`buildflow order get ${current.reference}\``, {
          exitCode: ExitCode.INTERRUPTED,
          plain: true,
        }),
      );
    };
  });
  interrupted.catch(() => undefined);
  process.once('SIGINT', interrupt);
  // Said only once Ctrl-C is handled: from here on an interrupt always reports the reference.
  process.stderr.write(`order ${order.reference} accepted (${order.status}); waiting for the pipeline (Ctrl-C stops waiting, not the order)\n`);
  try {
    let pollMs: number = FIRST_POLL_MS;
    while (!isSettled(current.status)) {
      if (progress && shown !== current.status) {
        process.stderr.write(`\r\x1b[2Kwaiting for ${current.reference}: ${current.status}…`);
        shown = current.status;
      }
      if (Date.now() >= deadline) {
        throw new CliError('WAIT_TIMEOUT', `order ${current.reference} is still ${current.status} after ${timeoutMs} ms`);
      }
      await Promise.race([new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now())))), interrupted]);
      current = await Promise.race([client.get<OrderView>(`/v1/orders/${encodeURIComponent(order.id)}`), interrupted]);
      pollMs = Math.min(MAX_POLL_MS, pollMs * 2);
    }
  } finally {
    process.removeListener('SIGINT', interrupt);
    if (progress && shown) process.stderr.write('\r\x1b[2K');
  }
  return current;
}
