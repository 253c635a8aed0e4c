import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** A customer loadtest signed up on a target, kept so the next run against it need not sign up (or in) again. */
export interface CachedCustomer {
  email: string;
  password: string;
  token?: string | undefined;
  /** When the token stops working, ms since the epoch. */
  expiresAt?: number | undefined;
}

interface CacheFile {
  url: string;
  /** Part of every email, so two cache files never name the same customer. */
  tag: string;
  customers: CachedCustomer[];
}

/**
 * Where loadtest keeps its customers for one target: a file per URL under
 * BUILDFLOW_LOADTEST_CACHE_DIR, else $XDG_CACHE_HOME/buildflow/loadtest, else ~/.cache/…
 * Reusing them is what lets a CI job run loadtest many times a minute against one server: its
 * sign-in limit per address (meant for attackers) would stop a run that signs everyone in anew.
 */
export function cacheFileFor(url: string, env: NodeJS.ProcessEnv): string {
  const dir = env.BUILDFLOW_LOADTEST_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'buildflow', 'loadtest');
  const id = createHash('sha256').update(url.replace(/\/+$/, '')).digest('hex').slice(0, 16);
  return join(dir, `customers-${id}.json`);
}

export class CustomerCache {
  private constructor(
    private readonly file: string | undefined,
    private readonly data: CacheFile,
  ) {}

  /** The cache of `url`; an unreadable or foreign file is started afresh. `file` undefined keeps nothing (a started deployment). */
  static open(file: string | undefined, url: string): CustomerCache {
    const fresh: CacheFile = { url, tag: randomBytes(4).toString('hex'), customers: [] };
    if (!file) return new CustomerCache(undefined, fresh);
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
      if (data.url === url && typeof data.tag === 'string' && Array.isArray(data.customers)) return new CustomerCache(file, data);
    } catch {
      // none yet, or not ours: start afresh
    }
    return new CustomerCache(file, fresh);
  }

  get(i: number): CachedCustomer | undefined {
    return this.data.customers[i];
  }

  /** A new customer for slot `i` (its email unique to this cache and attempt). */
  create(i: number): CachedCustomer {
    const c = { email: `loadtest-${this.data.tag}-${i}-${randomBytes(3).toString('hex')}@loadtest.invalid`, password: randomBytes(18).toString('base64url') };
    this.data.customers[i] = c;
    return c;
  }

  set(i: number, c: CachedCustomer): void {
    this.data.customers[i] = c;
  }

  /** Writes the cache (readable by this user only: it holds passwords of throwaway test customers). Never fails the run. */
  save(): string | undefined {
    if (!this.file) return undefined;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.file);
      return this.file;
    } catch {
      return undefined;
    }
  }
}
