import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WalSync } from '../../src/core/db/sqlite/wal-sync.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('WalSync', () => {
  it('when many callers ask at once, then each is answered by an fsync that started after its call, and they share few of them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'walsync-'));
    const file = join(dir, 'x-wal');
    writeFileSync(file, 'frames');
    const sync = new WalSync(file);
    const started: number[] = [];
    const original = (sync as unknown as { fsyncWal(): Promise<void> }).fsyncWal.bind(sync);
    (sync as unknown as { fsyncWal(): Promise<void> }).fsyncWal = () => {
      started.push(Date.now());
      return original();
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => sync.sync()));
    expect(results).toHaveLength(50);
    // The first caller starts an fsync; everyone arriving while it runs shares exactly one more.
    expect(started.length).toBe(2);
    await sync.close();
  });

  it('when there is no WAL file yet, then sync resolves (nothing was written)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'walsync-'));
    const sync = new WalSync(join(dir, 'missing-wal'));
    await expect(sync.sync()).resolves.toBeUndefined();
    await sync.close();
  });
});
