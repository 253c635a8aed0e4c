import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely, KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { BACKENDS } from '../helpers/backends.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { createEndpoint } from '../../src/core/webhooks/endpoints.js';
import { planAttempt } from '../../src/core/webhooks/deliveries.js';
import { openPostgres } from '../../src/core/db/postgres.js';
import { openSqlite } from '../../src/core/db/sqlite/sqlite.js';
import type { Database } from '../../src/core/db/schema.js';

/**
 * Runs `between` once, right after the `n`th statement sent through it has answered (kysely still
 * holds that statement's connection then, so `between` must use a connection of its own).
 */
class AfterStatement implements KyselyPlugin {
  private seen = 0;
  constructor(
    private readonly n: number,
    private readonly between: () => Promise<void>,
  ) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (++this.seen === this.n) await this.between();
    return args.result;
  }
}

for (const backend of BACKENDS) {
  describe(`webhook event order [${backend}]`, () => {
    let app: TestApp | undefined;
    afterEach(async () => {
      await app?.dispose();
      app = undefined;
    });

    it('when the step that writes event k commits while event k+1 is being planned, then k+1 still waits for k', async () => {
      const a = (app = await openTestApp({}, {}, backend));
      await addProduct(a, 'ORD-1', 10);
      const { order } = await a.placeOrder({ items: [{ sku: 'ORD-1', quantity: 1 }] });
      const endpoint = await createEndpoint(a.units, { url: 'http://127.0.0.1:9/hooks', events: ['order.shipped', 'order.delivered'] }, { allowPrivate: true });
      const now = Date.now();
      const later = now + 3_600_000;
      // Two notify messages of the order, not due (no worker takes them): event 2's, then event 3's.
      const notify = (payload: string) =>
        a.db
          .insertInto('outbox')
          .values({ topic: 'notify', order_id: order.id, payload, status: 'pending', attempts: 0, available_at: later, created_at: now })
          .returning('id')
          .executeTakeFirstOrThrow();
      const shipped = await notify('{"event":"shipped"}');
      const delivered = await notify('{"event":"delivered"}');
      const delivery = (sequence: number, source: number, type: string) => ({
        message_id: `msg_${sequence}`,
        endpoint_id: endpoint.id,
        event_type: type,
        order_id: order.id,
        sequence,
        source_message_id: source,
        body: '{}',
        status: 'pending' as const,
        attempts: 1,
        next_attempt_at: now,
        created_at: now,
      });
      // Event 3's delivery exists; event 2's step has not run yet.
      const third = await a.db.insertInto('webhook_deliveries').values(delivery(3, delivered.id, 'order.delivered')).returningAll().executeTakeFirstOrThrow();

      // Event 2's step commits (its delivery written, its message done, in one transaction) from
      // another connection, as a worker elsewhere would, right after the first of planAttempt's two
      // ordering reads: each read alone may miss it.
      const other: Kysely<Database> = a.config.databaseUrl ? openPostgres<Database>(a.config.databaseUrl, { max: 1 }) : openSqlite<Database>({ dataDir: a.config.dataDir });
      const commitEventTwo = () =>
        other.transaction().execute(async (trx) => {
          await trx.insertInto('webhook_deliveries').values(delivery(2, shipped.id, 'order.shipped')).execute();
          await trx.updateTable('outbox').set({ status: 'done', processed_at: Date.now() }).where('id', '=', shipped.id).execute();
        });
      let plan;
      try {
        // Statement 1 reads the endpoint; statement 2 is the first ordering read.
        plan = await planAttempt(a.db.withPlugin(new AfterStatement(2, commitEventTwo)), third, now);
      } finally {
        await other.destroy();
      }

      expect(plan).toEqual({ send: false, why: 'waiting-for-earlier-event' });
      expect(await a.db.selectFrom('webhook_deliveries').select(['sequence', 'status']).where('order_id', '=', order.id).orderBy('sequence').execute()).toEqual([
        { sequence: 2, status: 'pending' },
        { sequence: 3, status: 'pending' },
      ]);
    });
  });
}
