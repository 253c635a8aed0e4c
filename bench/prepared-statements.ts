/**
 * What BUILDFLOW_DATABASE_PREPARED_STATEMENTS=off costs per statement: two statements shaped like
 * the pipeline's (a three-table read of a batch of orders, a conditional stock update from arrays)
 * run on one connection named (on) and unnamed (off), in alternating blocks so that a machine
 * shared with other work slows both alike.
 *
 *   npm run build && node dist/bench/prepared-statements.js
 *     BENCH_BLOCKS=20 blocks of BENCH_BLOCK=200 executions per statement and setting
 *
 * Unnamed, Postgres parses and plans every execution; named, once per connection.
 */
import { sql, type Kysely } from 'kysely';
import { openPostgres } from '../src/core/db/postgres.js';
import { benchDeployment, envInt, percentile, runBench } from './common.js';

const blocks = envInt('BENCH_BLOCKS', 20);
const block = envInt('BENCH_BLOCK', 200);

await runBench('prepared-statements bench', 300, async () => {
  const deployment = await benchDeployment('postgres+redis');
  const url = deployment.env.BUILDFLOW_DATABASE_URL!;
  const pools = { on: openPostgres<any>(url, { max: 1 }), off: openPostgres<any>(url, { max: 1, preparedStatements: false }) };
  try {
    const ids = Array.from({ length: 40 }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`);
    const skus = (await sql<{ sku: string }>`select sku from products order by sku limit 2`.execute(pools.on)).rows.map((r) => r.sku);
    const statements: [string, (db: Kysely<any>) => Promise<unknown>][] = [
      [
        'read a batch of 40 orders with items and stock (3-table join)',
        (db) =>
          sql`select o.id, o.status, o.total_cents, i.sku, i.quantity, p.on_hand, p.reserved
              from orders o join order_items i on i.order_id = o.id join products p on p.sku = i.sku
              where o.id = any(${ids}) and o.status = ${'pending'} order by o.id, i.line_no`.execute(db),
      ],
      [
        'conditional stock update from arrays (2 products)',
        (db) =>
          sql`update products p set reserved = p.reserved + d.q
              from (select unnest(${skus}::text[]) as sku, unnest(${[0, 0]}::bigint[]) as q) d
              where p.sku = d.sku and p.on_hand - p.reserved >= d.q returning p.sku`.execute(db),
      ],
    ];
    console.log(`prepared-statements bench: ${blocks} alternating blocks of ${block} executions per statement, one connection each, node ${process.version}`);
    for (const [label, run] of statements) {
      const micros: Record<'on' | 'off', number[]> = { on: [], off: [] };
      for (let b = 0; b < blocks; b++) {
        for (const setting of b % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
          const started = process.hrtime.bigint();
          for (let i = 0; i < block; i++) await run(pools[setting]);
          micros[setting].push(Number(process.hrtime.bigint() - started) / block / 1000);
        }
      }
      const on = percentile([...micros.on].sort((a, b) => a - b), 50);
      const off = percentile([...micros.off].sort((a, b) => a - b), 50);
      console.log(`  ${label}: on ${on.toFixed(0)} µs, off ${off.toFixed(0)} µs per statement (median block; off − on = ${(off - on).toFixed(0)} µs)`);
    }
  } finally {
    await pools.on.destroy();
    await pools.off.destroy();
    await deployment.dispose();
  }
});
