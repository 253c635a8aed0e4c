import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The HTTP suites run once more for each scale-out cell BUILDFLOW_TEST_BACKENDS names (CI names
// them all); the core suites loop over BACKENDS themselves (test/helpers/backends.ts).
const backends = (process.env.BUILDFLOW_TEST_BACKENDS ?? 'sqlite').split(',').map((b) => b.trim());

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Prints which backend cells run and which env vars enable the others.
    globalSetup: ['test/helpers/backend-summary.ts'],
    hookTimeout: 60_000,
    // 2-core machines: files with child processes and fsync-heavy work run better a few at a time.
    maxWorkers: 2,
    // Worker threads the code starts (the SQLite commit thread) run its TypeScript source too.
    execArgv: ['--import', fileURLToPath(new URL('./test/helpers/ts-threads.mjs', import.meta.url))],
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'] } },
      ...['postgres', 'postgres+redis']
        .filter((b) => backends.includes(b))
        .map((b) => ({ extends: true as const, test: { name: `http on ${b}`, include: ['test/server/**/*.test.ts'], env: { BUILDFLOW_TEST_SERVER_BACKEND: b } } })),
    ],
  },
});
