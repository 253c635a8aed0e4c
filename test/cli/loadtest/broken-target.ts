import Fastify, { type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { IDENTITY_HEADER } from '../../../src/core/package-info.js';

/**
 * A tiny stand-in for buildflow's API, just enough for `buildflow loadtest --url` to run against,
 * with one deliberate flaw each: the load test's checks must catch it. Orders are settled at once
 * (confirmed when stock allows, else cancelled out_of_stock), so nothing waits for a pipeline.
 */
export type Flaw =
  | 'none'
  | 'lose-order' // answers 201 for the 3rd order, then forgets it
  | 'duplicate-key' // ignores Idempotency-Key: a retry makes a second order
  | 'oversell' // confirms orders whatever the stock
  | 'errors' // every 5th order placement answers 500
  | 'double-charge' // lists two captured payments for the 2nd order
  | 'double-notify' // lists the 2nd order's notification twice
  | 'ledger-drift' // reports a product whose stock differs from its ledger
  | 'stall'; // once, after 1 s, holds every request for 1 s

interface Order {
  id: string;
  status: 'confirmed' | 'cancelled';
  cancelReason?: string;
  items: { sku: string; quantity: number; name: string; unitPriceCents: number; lineTotalCents: number }[];
  totalCents: number;
  createdAt: string;
  updatedAt: string;
}

export async function startBrokenTarget(flaw: Flaw, adminKey: string): Promise<{ url: string; close(): Promise<void>; orders(): number }> {
  const products = new Map<string, { onHand: number; reserved: number; price: number }>();
  for (let i = 0; i < 8; i++) products.set(`FAKE-${i}`, { onHand: 100, reserved: 0, price: 100 * (i + 1) });
  const orders = new Map<string, Order>();
  const byKey = new Map<string, string>();
  const tokens = new Set<string>();
  let placed = 0;
  let stallUntil = 0;
  let stalled = false;
  const started = Date.now();

  const app: FastifyInstance = Fastify();
  const view = (sku: string) => {
    const p = products.get(sku)!;
    return { sku, name: sku, category: 'fake', unitPriceCents: p.price, onHand: p.onHand, reserved: p.reserved, available: p.onHand - p.reserved, updatedAt: new Date().toISOString() };
  };
  const err = (code: string, message: string) => ({ error: { code, message } });

  app.addHook('onRequest', async (request, reply) => {
    // It claims to be buildflow, as the CLI's client checks; its flaws are elsewhere.
    reply.header(IDENTITY_HEADER, 'fake');
    if (flaw === 'stall') {
      if (!stalled && request.method === 'POST' && request.url === '/v1/orders' && Date.now() - started > 1000) {
        stalled = true;
        stallUntil = Date.now() + 1000;
      }
      const wait = stallUntil - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (request.url === '/v1/customers' || request.url.startsWith('/v1/auth')) return;
    const bearer = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    if (bearer !== adminKey && !tokens.has(bearer)) return reply.code(401).send(err('UNAUTHORIZED', 'no'));
  });

  app.get('/v1/products', async () => ({ items: [...products.keys()].map(view) }));
  app.get<{ Params: { sku: string } }>('/v1/products/:sku', async (req, reply) => (products.has(req.params.sku) ? view(req.params.sku) : reply.code(404).send(err('PRODUCT_NOT_FOUND', 'no'))));
  app.post<{ Params: { sku: string }; Body: { set: number } }>('/v1/products/:sku/stock', async (req) => {
    products.get(req.params.sku)!.onHand = req.body.set;
    return view(req.params.sku);
  });
  app.post('/v1/customers', async (_req, reply) => reply.code(201).send({ id: randomUUID() }));
  app.get('/v1/me', async () => ({ id: 'fake' }));
  app.post('/v1/auth/token', async () => {
    const token = `tok-${randomUUID()}`;
    tokens.add(token);
    return { token, expiresAt: new Date(Date.now() + 3600_000).toISOString() };
  });

  app.post<{ Body: { items: { sku: string; quantity: number }[] } }>('/v1/orders', async (req, reply) => {
    const key = req.headers['idempotency-key'] as string | undefined;
    if (key && byKey.has(key) && flaw !== 'duplicate-key') {
      const existing = orders.get(byKey.get(key)!);
      if (existing) return reply.code(201).send(existing);
    }
    placed += 1;
    if (flaw === 'errors' && placed % 5 === 0) return reply.code(500).send(err('INTERNAL', 'deliberately broken'));
    const now = new Date().toISOString();
    const want = new Map<string, number>();
    for (const i of req.body.items) want.set(i.sku, (want.get(i.sku) ?? 0) + i.quantity);
    const enough = [...want].every(([sku, q]) => products.get(sku)!.onHand >= q);
    const items = req.body.items.map((i) => ({ ...i, name: i.sku, unitPriceCents: products.get(i.sku)!.price, lineTotalCents: products.get(i.sku)!.price * i.quantity }));
    const order: Order = { id: randomUUID(), status: 'confirmed', items, totalCents: items.reduce((a, i) => a + i.lineTotalCents, 0), createdAt: now, updatedAt: now };
    if (enough || flaw === 'oversell') for (const [sku, q] of want) products.get(sku)!.onHand -= q;
    else Object.assign(order, { status: 'cancelled', cancelReason: 'out_of_stock' });
    if (!(flaw === 'lose-order' && placed === 3)) orders.set(order.id, order);
    if (key) byKey.set(key, order.id);
    return reply.code(201).send(order);
  });
  app.get('/v1/orders', async () => ({ items: [...orders.values()] }));
  app.get<{ Params: { id: string } }>('/v1/orders/:id', async (req, reply) => orders.get(req.params.id) ?? reply.code(404).send(err('ORDER_NOT_FOUND', 'no')));
  app.post('/v1/orders/:id/cancel', async (_req, reply) => reply.code(409).send(err('ORDER_NOT_CANCELLABLE', 'already final')));
  app.get('/v1/admin/payments', async () => {
    const confirmed = [...orders.values()].filter((o) => o.status === 'confirmed');
    const items = confirmed.map((o) => ({ orderId: o.id, status: 'captured', amountCents: o.totalCents }));
    if (flaw === 'double-charge' && confirmed[1]) items.push({ orderId: confirmed[1].id, status: 'captured', amountCents: confirmed[1].totalCents });
    return { items };
  });
  app.get('/v1/notifications', async () => {
    const all = [...orders.values()];
    const items = all.map((o) => ({ orderId: o.id, kind: o.status === 'confirmed' ? 'order_confirmed' : 'order_cancelled' }));
    if (flaw === 'double-notify' && all[1]) items.push({ orderId: all[1].id, kind: all[1].status === 'confirmed' ? 'order_confirmed' : 'order_cancelled' });
    return { items };
  });
  app.get('/v1/admin/stock-drift', async () => ({
    items: flaw === 'ledger-drift' ? [{ sku: 'FAKE-0', onHand: products.get('FAKE-0')!.onHand, reserved: 0, ledgerOnHand: products.get('FAKE-0')!.onHand + 3, ledgerReserved: 0 }] : [],
  }));

  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close(), orders: () => orders.size };
}
