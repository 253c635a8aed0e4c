import type { Config } from '../config.js';
import { checkRedis } from '../doctor/redis-checks.js';
import { acceptIfListed } from '../doctor/run-doctor.js';
import type { SettingChecks } from './snapshot-types.js';

/** Bound on each Redis call of the background check. */
const TIMEOUT_MS = 3_000;

/**
 * Doctor's Redis checks (`redis`, `redis-persistence`, `redis-eviction`) for the snapshot, with the
 * deployment's BUILDFLOW_ACCEPT applied as doctor applies it, so the dashboard alerts on exactly
 * what doctor fails. Like the stock check, it runs in the background at most every `intervalMs`,
 * only while someone polls; without Redis there is nothing to check.
 */
export class SettingChecksMonitor {
  private last: { at: number; checks: SettingChecks['checks'] } | undefined;
  private running: Promise<void> | undefined;
  private startedAt = -Infinity;

  constructor(
    private readonly config: Config,
    private readonly intervalMs: number,
  ) {}

  current(now = Date.now()): SettingChecks {
    const accepted = [...this.config.accept];
    if (!this.config.redis.url) return { accepted, checks: [], checkedAt: null };
    if (!this.running && now - this.startedAt >= this.intervalMs) {
      this.startedAt = now;
      this.running = this.check().finally(() => (this.running = undefined));
    }
    return { accepted, checks: this.last?.checks ?? [], checkedAt: this.last ? new Date(this.last.at).toISOString() : null };
  }

  async settled(): Promise<void> {
    await this.running;
  }

  private async check(): Promise<void> {
    const at = Date.now();
    // checkRedis never throws: an unreachable Redis is a failed `redis` check.
    const checks = await checkRedis(this.config, TIMEOUT_MS);
    this.last = {
      at,
      checks: checks.map((c) => {
        const judged = acceptIfListed(c, this.config.accept);
        return { name: judged.name, status: judged.status, detail: judged.detail, accepted: judged !== c };
      }),
    };
  }
}
