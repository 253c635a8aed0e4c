import { Pool } from 'undici';
import type { GeneratorConfig } from './generator-config.js';
import { Workload, type Operation } from './plan.js';
import type { RequestOp, RequestRecord, StockReading } from './records.js';
import { cancelPaid, refundPart, type FollowUpContext } from './money-follow-ups.js';

// A request slower than this is a failure of the target, not a slow answer.
const REQUEST_TIMEOUT_MS = 30_000;
// After a refused connection, a closed-loop connection waits this long, so a dead server is not hammered in a tight loop.
const BACKOFF_AFTER_NETWORK_ERROR_MS = 20;
// Orders remembered per customer for order reads.
const RECENT_ORDERS = 8;

interface Answer {
  status: number;
  code?: string;
  body?: unknown;
}

/** Sends the workload's operations to the target and reports each request; no scheduling of its own. */
export class Generator {
  readonly workload: Workload;
  private readonly pools: Pool[];
  private readonly recent = new Map<number, string[]>();
  private buffer: RequestRecord[] = [];
  // The admin's follow-ups run beside the load, as an operator's would, not in a caller's turn.
  private readonly followUps = new Set<Promise<void>>();

  constructor(readonly config: GeneratorConfig) {
    this.workload = new Workload(config.plan);
    this.pools = config.urls.map((u) => new Pool(u, { connections: config.model.connections, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS }));
  }

  /** Records gathered since the last call. */
  take(): RequestRecord[] {
    const out = this.buffer;
    this.buffer = [];
    return out;
  }

  /** Waits for the admin's follow-ups still under way (each waits for its order first). */
  async drain(): Promise<void> {
    while (this.followUps.size > 0) await Promise.all(this.followUps);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }

  /** Runs operation `index`, its first request counted from `scheduled`; resolves false when the target gave no answer. */
  async run(op: Operation, scheduled: number): Promise<boolean> {
    const pool = this.pools[op.index % this.pools.length]!;
    const token = this.config.tokens[op.customer]!;
    if (op.kind === 'read') return this.read(pool, token, op, scheduled);

    const body = JSON.stringify({ items: op.items });
    const place = (kind: RequestOp, due: number) =>
      this.send(pool, kind, op.index, due, { method: 'POST', path: '/v1/orders', token, body, key: op.key });
    let first: Answer;
    if (op.retry === 'concurrent') {
      const both = await Promise.all([place('order', scheduled), place('retry', scheduled)]);
      first = both[0];
    } else {
      first = await place('order', scheduled);
      if (op.retry === 'after') await place('retry', Date.now());
    }
    const id = first.status === 201 ? (first.body as { id?: string } | undefined)?.id : undefined;
    if (id) {
      const list = this.recent.get(op.customer) ?? [];
      list.push(id);
      if (list.length > RECENT_ORDERS) list.shift();
      this.recent.set(op.customer, list);
      if (op.cancel) await this.send(pool, 'cancel', op.index, Date.now(), { method: 'POST', path: `/v1/orders/${id}/cancel`, token, orderId: id });
      if (op.refund) this.followUp(refundPart(this.adminContext(pool, op.index), id, op.key));
      if (op.cancelPaid) this.followUp(cancelPaid(this.adminContext(pool, op.index), id));
    }
    return first.status !== 0;
  }

  private adminContext(pool: Pool, index: number): FollowUpContext {
    const token = this.config.adminToken;
    return {
      pool,
      adminToken: token,
      send: (op, r) => this.send(pool, op, index, Date.now(), { method: 'POST', token, ...r }),
    };
  }

  private followUp(work: Promise<void>): void {
    const p = work.catch(() => {}).finally(() => this.followUps.delete(p));
    this.followUps.add(p);
  }

  private async read(pool: Pool, token: string, op: Extract<Operation, { kind: 'read' }>, scheduled: number): Promise<boolean> {
    const recent = this.recent.get(op.customer);
    if (op.read === 'order' && recent && recent.length > 0) {
      const id = recent[op.index % recent.length]!;
      return (await this.send(pool, 'order-get', op.index, scheduled, { method: 'GET', path: `/v1/orders/${id}`, token, orderId: id })).status !== 0;
    }
    const list = op.read === 'products';
    const path = list ? '/v1/products?limit=50' : `/v1/products/${encodeURIComponent(op.sku)}`;
    const answer = await this.send(pool, list ? 'products' : 'product', op.index, scheduled, { method: 'GET', path, token, stock: true });
    return answer.status !== 0;
  }

  private async send(
    pool: Pool,
    op: RequestOp,
    index: number,
    scheduled: number,
    r: { method: 'GET' | 'POST'; path: string; token: string; body?: string; key?: string; orderId?: string; stock?: boolean },
  ): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${r.token}`, accept: 'application/json' };
    if (r.method === 'POST') headers['content-type'] = 'application/json';
    if (r.key) headers['idempotency-key'] = r.key;
    const start = Date.now();
    let answer: Answer;
    try {
      const res = await pool.request({ method: r.method, path: r.path, headers, body: r.method === 'POST' ? (r.body ?? '{}') : null });
      const text = await res.body.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const code = res.statusCode >= 400 ? (body as { error?: { code?: unknown } } | undefined)?.error?.code : undefined;
      answer = { status: res.statusCode, ...(typeof code === 'string' ? { code } : {}), body };
    } catch (err) {
      answer = { status: 0, code: (err as NodeJS.ErrnoException).code ?? 'NETWORK' };
    }
    const end = Date.now();
    const record: RequestRecord = { op, index, status: answer.status, scheduled, start, end };
    if (r.key) record.key = r.key;
    if (answer.code) record.code = answer.code;
    const orderId = r.orderId ?? (answer.status === 201 ? (answer.body as { id?: unknown } | undefined)?.id : undefined);
    if (typeof orderId === 'string') record.orderId = orderId;
    if (r.stock && answer.status === 200) {
      const bad = impossibleStock(answer.body);
      if (bad.length > 0) record.badStock = bad;
    }
    this.buffer.push(record);
    if (answer.status === 0) await new Promise((res) => setTimeout(res, BACKOFF_AFTER_NETWORK_ERROR_MS));
    return answer;
  }
}

/** Stock readings in a product or a page of products that no consistent state can show. */
function impossibleStock(body: unknown): StockReading[] {
  const list = (body as { items?: unknown[] } | undefined)?.items ?? [body];
  const out: StockReading[] = [];
  for (const p of list as { sku?: unknown; onHand?: unknown; reserved?: unknown; available?: unknown }[]) {
    if (typeof p?.sku !== 'string' || typeof p.onHand !== 'number' || typeof p.reserved !== 'number') continue;
    const available = typeof p.available === 'number' ? p.available : p.onHand - p.reserved;
    if (available < 0 || p.reserved > p.onHand || p.onHand < 0 || p.reserved < 0) {
      out.push({ sku: p.sku, onHand: p.onHand, reserved: p.reserved, available });
    }
  }
  return out;
}
