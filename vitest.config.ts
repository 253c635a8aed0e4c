import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: files with child processes and fsync-heavy work run better a few at a time.
    maxWorkers: 2,
  },
});
