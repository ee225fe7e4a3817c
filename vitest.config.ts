import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: integration tests each start Azurite/the ARM simulator; keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
