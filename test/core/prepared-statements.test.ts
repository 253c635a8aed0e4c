import { afterEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { BACKENDS, freshPostgresDatabase, usesPostgres } from '../helpers/backends.js';
import { openPostgres } from '../../src/core/db/postgres.js';
import { StatementNames } from '../../src/core/db/named-statements.js';

describe('statement names', () => {
  it('when a text is seen a second time, then it gets a name of its pool, and another pool numbers its own from 1', () => {
    const a = new StatementNames();
    const b = new StatementNames();
    expect(a.nameFor('select $1')).toBeUndefined();
    expect(a.nameFor('select $1')).toBe('bf_1');
    expect(a.nameFor('select $1')).toBe('bf_1');
    expect(b.nameFor('select 2, $1')).toBeUndefined();
    expect(b.nameFor('select 2, $1')).toBe('bf_1');
  });
});

const cells = BACKENDS.filter(usesPostgres).slice(0, 1);

describe.skipIf(cells.length === 0)('prepared statements on Postgres', () => {
  const opened: { db: Kysely<any>; drop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) {
      await o.db.destroy();
      await o.drop();
    }
  });

  /** The names of the statements prepared in the session of the pool's one connection. */
  async function preparedIn(preparedStatements: boolean): Promise<string[]> {
    const database = await freshPostgresDatabase();
    const db = openPostgres<any>(database.url, { max: 1, preparedStatements });
    opened.push({ db, drop: database.drop });
    for (let i = 0; i < 3; i++) await sql`select ${i}::int + 1 as n`.execute(db);
    const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db);
    return rows.map((r) => r.name);
  }

  it('when prepared statements are on, then a repeated statement is prepared in the session', async () => {
    expect(await preparedIn(true)).toEqual(['bf_1']);
  });

  it('when they are off, then nothing is left in the session after a statement', async () => {
    expect(await preparedIn(false)).toEqual([]);
  });
});
