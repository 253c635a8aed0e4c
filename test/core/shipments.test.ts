import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { redriveDeadLetter } from '../../src/core/outbox/dead-letters.js';
import { getTracking, requestShipmentUpdate } from '../../src/core/shipments/shipments.js';
import { getOrder } from '../../src/core/orders/queries.js';
import { addProduct, openTestApp, type TestApp } from '../helpers/test-app.js';
import { makeAllDue, runUntilIdle } from '../helpers/pipeline.js';

let app: TestApp;
afterEach(async () => app?.dispose());

const DIST = fileURLToPath(new URL('../../dist/src/core/', import.meta.url));

/** Asks for `shipped` from a child process with its own connection; resolves 'accepted' or the error code. */
function requestInChild(dataDir: string, code: string): Promise<string> {
  const script = `
    const { openSqlite } = await import(${JSON.stringify(`${DIST}db/sqlite/sqlite.js`)});
    const { requestShipmentUpdate } = await import(${JSON.stringify(`${DIST}shipments/shipments.js`)});
    const { UnitRunner } = await import(${JSON.stringify(`${DIST}db/unit-of-work.js`)});
    const db = openSqlite({ dataDir: ${JSON.stringify(dataDir)} });
    try { await requestShipmentUpdate(new UnitRunner(db), ${JSON.stringify(code)}, 'shipped'); process.stdout.write('accepted'); }
    catch (err) { process.stdout.write(String(err.code)); }
    finally { await db.destroy(); }`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
  );
}

async function confirmed(a: TestApp): Promise<{ orderId: string; code: string }> {
  await addProduct(a, 'A', 100);
  const { order } = await a.placeOrder({ items: [{ sku: 'A', quantity: 1 }] });
  await runUntilIdle(a);
  const view = await getOrder(a.db, order.id);
  expect(view.status).toBe('confirmed');
  return { orderId: order.id, code: view.trackingCode! };
}

describe('shipment updates', () => {
  it('when several processes request the same update at once, then exactly one is accepted and it is applied once', async () => {
    app = await openTestApp();
    const { orderId, code } = await confirmed(app);
    // Separate processes, as a server and a second API process would be (one thread cannot hold two
    // SQLite writers: better-sqlite3 blocks the thread while it waits for the lock).
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => requestInChild(app.dataDir, code)));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'SHIPMENT_TRANSITION_INVALID')).toHaveLength(3);
    const queued = await app.db.selectFrom('outbox').select('topic').where('order_id', '=', orderId).where('topic', '=', 'ship').execute();
    expect(queued).toHaveLength(1);
    await runUntilIdle(app);
    expect((await getTracking(app.db, code)).history.map((h) => h.status)).toEqual(['pending', 'shipped']);
    expect((await getOrder(app.db, orderId)).status).toBe('shipped');
  });

  it('when a ship message is dead-lettered, then the order stays confirmed, updates wait, and a re-drive applies it', async () => {
    app = await openTestApp({ BUILDFLOW_MAX_ATTEMPTS: 1 });
    const { orderId, code } = await confirmed(app);
    await requestShipmentUpdate(app.units, code, 'shipped');
    // Make the message look as if it had already crashed its worker once.
    await app.db.updateTable('outbox').set({ attempts: 1 }).where('order_id', '=', orderId).where('topic', '=', 'ship').execute();
    await runUntilIdle(app);
    const dead = await app.db.selectFrom('outbox').select(['id', 'status']).where('order_id', '=', orderId).where('topic', '=', 'ship').executeTakeFirstOrThrow();
    expect(dead.status).toBe('dead');
    expect((await getOrder(app.db, orderId)).status).toBe('confirmed');
    await expect(requestShipmentUpdate(app.units, code, 'shipped')).rejects.toMatchObject({ code: 'SHIPMENT_TRANSITION_INVALID' });

    await redriveDeadLetter(app.units, dead.id);
    await makeAllDue(app);
    await runUntilIdle(app);
    expect((await getOrder(app.db, orderId)).status).toBe('shipped');
    expect((await getTracking(app.db, code)).status).toBe('shipped');
  });
});
