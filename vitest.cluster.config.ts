import { defineConfig } from 'vitest/config';

/**
 * The cluster test alone (`npm run test:cluster`): it starts three server processes, so its
 * files run one at a time and nothing else shares the machine's two cores with them.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    // Each run bounds itself (sale time limit, ready and drain waits); these are backstops.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
