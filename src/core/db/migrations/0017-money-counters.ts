import { sql, type Kysely } from 'kysely';
import { isSqlite } from './dialect-types.js';
import { statsFunction } from './0006-stats-counters-and-workers.js';

/**
 * Money totals for the stats snapshot, `/metrics` and the dashboard without summing the payment
 * ledger: `money:<kind>:<outcome>` counts the cents of every ledger row that has its provider's
 * answer (outcome `succeeded` or `failed`; a `pending` row counts nowhere yet), kept by triggers in
 * the transaction that writes the row, as 0006's counters are. A row settled, or altered by hand
 * (its amount, kind or outcome), moves its cents from its old name to its new one, so the
 * counters stay the sum of the ledger whichever path wrote it.
 *
 * Ledger writes are a few per order and nearly every update settles a row, so on Postgres
 * statement triggers with transition tables cost little and give one upsert per statement (a
 * confirm batch settles its captures in one). SQLite: row triggers whose WHEN skips pending rows.
 *
 * Back-filled from the ledger already there, once, here.
 */
const NAME = (row: string) => `'money:' || ${row}.kind || ':' || ${row}.status`;

const INSERTED = `select ${NAME('n')} as name, n.amount_cents as delta from new_rows n where n.status <> 'pending'`;
const DELETED = `select ${NAME('o')} as name, -o.amount_cents as delta from old_rows o where o.status <> 'pending'`;

const backFill = sql.raw(`
  insert into stats_counters (name, slot, value)
  select 'money:' || kind || ':' || status, 0, sum(amount_cents) from payment_ledger where status <> 'pending' group by kind, status`);

export async function up(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) {
    const bump = (row: 'new' | 'old', sign: 1 | -1) =>
      `insert into stats_counters (name, slot, value) values (${NAME(row)}, 0, ${sign} * ${row}.amount_cents)
         on conflict (name, slot) do update set value = value + ${sign} * ${row}.amount_cents;`;
    // One transaction: a ledger row written by another process between the back-fill and the
    // triggers would otherwise be counted twice or not at all.
    await db.transaction().execute(async (trx) => {
      for (const t of [
        `create trigger payment_ledger_money_insert after insert on payment_ledger when new.status <> 'pending'
           begin ${bump('new', 1)} end`,
        `create trigger payment_ledger_money_from after update on payment_ledger when old.status <> 'pending'
           begin ${bump('old', -1)} end`,
        `create trigger payment_ledger_money_to after update on payment_ledger when new.status <> 'pending'
           begin ${bump('new', 1)} end`,
        `create trigger payment_ledger_money_delete after delete on payment_ledger when old.status <> 'pending'
           begin ${bump('old', -1)} end`,
      ]) {
        await sql.raw(t).execute(trx);
      }
      await backFill.execute(trx);
    });
    return;
  }
  // Postgres runs the migration in one transaction; the lock holds ledger writers until it
  // commits, so each row is counted by the back-fill or by the triggers, exactly once.
  await sql`lock table payment_ledger in share mode`.execute(db);
  await sql.raw(statsFunction('buildflow_money_insert', INSERTED)).execute(db);
  await sql.raw(statsFunction('buildflow_money_update', `${INSERTED} union all ${DELETED}`)).execute(db);
  await sql.raw(statsFunction('buildflow_money_delete', DELETED)).execute(db);
  await sql`create trigger payment_ledger_money_insert after insert on payment_ledger referencing new table as new_rows
    for each statement execute function buildflow_money_insert()`.execute(db);
  await sql`create trigger payment_ledger_money_update after update on payment_ledger referencing old table as old_rows new table as new_rows
    for each statement execute function buildflow_money_update()`.execute(db);
  await sql`create trigger payment_ledger_money_delete after delete on payment_ledger referencing old table as old_rows
    for each statement execute function buildflow_money_delete()`.execute(db);
  await backFill.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isSqlite(db)) {
    for (const t of ['insert', 'from', 'to', 'delete']) await sql.raw(`drop trigger if exists payment_ledger_money_${t}`).execute(db);
  } else {
    for (const t of ['insert', 'update', 'delete']) {
      await sql.raw(`drop trigger if exists payment_ledger_money_${t} on payment_ledger`).execute(db);
      await sql.raw(`drop function if exists buildflow_money_${t}()`).execute(db);
    }
  }
  await sql`delete from stats_counters where name like 'money:%'`.execute(db);
}
