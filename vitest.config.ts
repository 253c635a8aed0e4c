import { defineConfig } from 'vitest/config';

// The HTTP suites run once more on Postgres when BUILDFLOW_TEST_BACKENDS names it (CI does); the
// core suites loop over BACKENDS themselves (test/helpers/backends.ts).
const backends = (process.env.BUILDFLOW_TEST_BACKENDS ?? 'sqlite').split(',').map((b) => b.trim());

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: files with child processes and fsync-heavy work run better a few at a time.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'] } },
      ...(backends.includes('postgres')
        ? [{ extends: true, test: { name: 'http on postgres', include: ['test/server/**/*.test.ts'], env: { BUILDFLOW_TEST_SERVER_BACKEND: 'postgres' } } }]
        : []),
    ],
  },
});
