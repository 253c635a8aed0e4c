import { mapLimit, type LoadtestApi } from '../target/api.js';
import { mulberry32 } from './random.js';
import { CliError } from '../../cli-error.js';

// Returns are admin work after the load, a few at a time: they exercise the path, not the throughput.
const PARALLEL = 8;
const POLL_MS = 100;

interface OrderView {
  id: string;
  status: string;
  trackingCode?: string;
  items: { sku: string; quantity: number }[];
}

/** What the returns phase did. */
export interface ReturnShareResult {
  /** Confirmed orders drawn for a return. */
  drawn: number;
  received: number;
  /** Orders whose return could not be made, with why (the first few). */
  failed: { orderId: string; why: string }[];
}

/**
 * `--return-share`: for that share of the confirmed orders (drawn from the run's seed), the admin
 * ships the order, asks a return of one unit of its first line, receives it back on the shelf, and
 * waits until the return's refund has been answered by the provider. Runs after the load has settled
 * and before doctor, so doctor's stock and money reconciliation cover the returns.
 */
export async function returnShareOf(admin: LoadtestApi, confirmed: readonly string[], share: number, seed: number, timeoutMs: number): Promise<ReturnShareResult> {
  const rand = mulberry32(seed ^ 0x5e7a11);
  const drawn = [...confirmed].sort().filter(() => rand() < share);
  const failed: ReturnShareResult['failed'] = [];
  let received = 0;
  const deadline = Date.now() + timeoutMs;
  await mapLimit(drawn, PARALLEL, async (orderId) => {
    try {
      await returnOne(admin, orderId, deadline);
      received++;
    } catch (err) {
      failed.push({ orderId, why: err instanceof Error ? err.message : String(err) });
    }
  });
  return { drawn: drawn.length, received, failed: failed.slice(0, 10) };
}

async function returnOne(admin: LoadtestApi, orderId: string, deadline: number): Promise<void> {
  const path = `/v1/orders/${encodeURIComponent(orderId)}`;
  const order = await admin.get<OrderView>(path);
  const line = order.items[0];
  if (!order.trackingCode || !line) throw new Error(`order ${orderId} has no shipment or no line`);
  await admin.post(`/v1/shipments/${encodeURIComponent(order.trackingCode)}/status`, { status: 'shipped' });
  await until(deadline, `order ${orderId} shipped`, async () => (await admin.get<OrderView>(path)).status === 'shipped');
  const asked = await admin.post<{ id: string }>(`${path}/returns`, { items: [{ sku: line.sku, quantity: 1 }], reason: 'loadtest --return-share' });
  try {
    await admin.post(`/v1/returns/${encodeURIComponent(asked.id)}/receive`, { items: [{ sku: line.sku, quantity: 1, restock: true }] });
  } catch (err) {
    // A receipt whose answer was lost and was sent again: the first one counted.
    if (!(err instanceof CliError && err.code === 'RETURN_ALREADY_RECEIVED')) throw err;
  }
  await until(deadline, `the refund of return ${asked.id}`, async () => {
    const ledger = await admin.get<{ items: { returnId?: string; status: string }[] }>(`${path}/payments`);
    return ledger.items.some((e) => e.returnId === asked.id && e.status !== 'pending');
  });
}

async function until(deadline: number, what: string, ok: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await ok()) return;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
