import { BACKENDS, TEST_POSTGRES_URL, TEST_REDIS_URL, type Backend } from './backends.js';

const ALL: readonly Backend[] = ['sqlite', 'postgres', 'postgres+redis'];

/** The line `npm test` ends with: which backend cells ran, which were skipped, and how to run them. */
export function backendSummary(): string {
  return `${cellSummary()}\n${pgbouncerSummary()}`;
}

// Read here rather than from helpers/pgbouncer.ts, which pulls in the CLI harness (and vitest).
function pgbouncerSummary(): string {
  if (process.env.BUILDFLOW_TEST_PGBOUNCER === '1') return 'PgBouncer cell: ran (scale-out and command tests through a private PgBouncer in transaction mode)';
  return "PgBouncer cell: skipped; run it with BUILDFLOW_TEST_PGBOUNCER=1 once Debian's pgbouncer is installed (/usr/sbin/pgbouncer, or BUILDFLOW_TEST_PGBOUNCER_BIN).";
}

function cellSummary(): string {
  const skipped = ALL.filter((b) => !BACKENDS.includes(b));
  const ran = `backend cells: ran ${BACKENDS.join(', ')}`;
  if (skipped.length === 0) return `${ran} (Postgres ${TEST_POSTGRES_URL}, Redis ${TEST_REDIS_URL})`;
  return (
    `${ran}; skipped ${skipped.join(', ')} (their cases are left out or show as skipped). ` +
    `Run every cell with BUILDFLOW_TEST_BACKENDS=${ALL.join(',')}, ` +
    `BUILDFLOW_TEST_POSTGRES_URL (default ${TEST_POSTGRES_URL}) and BUILDFLOW_TEST_REDIS_URL (default ${TEST_REDIS_URL}).`
  );
}

// The root and each project load this file as a separate module: the flag lives on globalThis.
const SAID = Symbol.for('buildflow.backendSummarySaid');

/**
 * vitest globalSetup: says it after the last test, under vitest's own summary. Each project may
 * run the teardown; the line is said once.
 */
export default function setup(): () => void {
  return () => {
    const g = globalThis as Record<symbol, unknown>;
    if (g[SAID]) return;
    g[SAID] = true;
    console.log(`\n${backendSummary()}`);
  };
}
