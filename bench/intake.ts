/**
 * Intake benchmark: durable order intake against an echo ceiling measured in the same run.
 *
 *   npm run build && node dist/bench/intake.js            (BENCH_SECONDS=10 BENCH_CONNECTIONS=64)
 *
 * The echo route validates the same body schema on the same Fastify instance and answers without
 * touching the database, so the ratio isolates what durable intake costs. An order is answered
 * only after its transaction is committed and the WAL fsynced (it survives power loss). Workers
 * are off so the figure is intake alone. The baseline run commits and fsyncs one transaction per
 * request on the event loop (synchronous=FULL), the obvious design group commit replaces.
 */
import autocannon from 'autocannon';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server/build-server.js';
import { OrderIntake } from '../src/core/orders/intake.js';
import { benchApp, envInt, orderBody } from './common.js';

const seconds = envInt('BENCH_SECONDS', 10);
// Orders are placed as the admin (no customer): the same headers go to the echo route.
const ADMIN_KEY = 'bench-admin-key-0123456789';
const connections = envInt('BENCH_CONNECTIONS', 64);

async function drive(url: string, body: string): Promise<{ rps: number; p50: number; p99: number; non2xx: number; errors: number }> {
  // The load generator runs in its own thread so it neither competes with nor stalls the server's event loop.
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };
  const r = await autocannon({ url, connections, workers: 1, duration: seconds, method: 'POST', headers, body });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

async function listen(server: FastifyInstance): Promise<string> {
  await server.listen({ host: '127.0.0.1', port: 0 });
  const addr = server.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return `http://127.0.0.1:${addr.port}`;
}

function line(name: string, r: Awaited<ReturnType<typeof drive>>, ceiling?: number): string {
  const ratio = ceiling ? `  ${((100 * r.rps) / ceiling).toFixed(1)}% of echo` : '';
  const bad = r.non2xx + r.errors > 0 ? `  (${r.non2xx} non-2xx, ${r.errors} errors)` : '';
  return `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${String(r.p50).padStart(4)} ms  p99 ${String(r.p99).padStart(4)} ms${ratio}${bad}`;
}

async function main(): Promise<void> {
  const body = JSON.stringify(orderBody(1));
  const { app, dispose } = await benchApp();
  const server = await buildServer(app, { adminKey: ADMIN_KEY, logger: false });
  server.post(
    '/bench/echo',
    { schema: { body: (await import('../src/server/schemas/orders.js')).CreateOrderBody } },
    async (req, reply) => reply.code(201).send(req.body),
  );
  const url = await listen(server);

  console.log(`intake benchmark: ${connections} connections, ${seconds}s per run, node ${process.version}`);
  const echo = await drive(`${url}/bench/echo`, body);
  console.log(line('echo (schema, no database)', echo));
  const orders = await drive(`${url}/v1/orders`, body);
  console.log(line('orders (group commit)', orders, echo.rps));
  if (orders.non2xx + orders.errors > 0) {
    console.error('the orders run had failed requests: its figures do not measure intake');
    process.exitCode = 1;
  }
  await server.close();
  await dispose();
  if (process.env.BENCH_SKIP_BASELINE) return;

  // Baseline: the same intake committing one transaction per order.
  const single = await benchApp();
  await sql`pragma synchronous = full`.execute(single.app.db);
  const perRequest = new OrderIntake({ db: single.app.db, durable: async () => {}, maxItemsPerOrder: 100, maxBatch: 1 });
  single.app.placeOrder = (input) => perRequest.place(input);
  const server2 = await buildServer(single.app, { adminKey: ADMIN_KEY, logger: false });
  const url2 = await listen(server2);
  const baseline = await drive(`${url2}/v1/orders`, body);
  console.log(line('orders (commit per request)', baseline, echo.rps));
  await server2.close();
  await single.dispose();

  console.log(`ratio orders/echo: ${(orders.rps / echo.rps).toFixed(2)} (goal >= 0.50); group commit vs per-request: ${(orders.rps / baseline.rps).toFixed(1)}x`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
