import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The cluster test starts real server processes: `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: ['**/node_modules/**', 'test/cluster/**'],
    // Each file opens its own embedded database (~1 s, ~0.5 GB); two workers fit two cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    // Opening an embedded database takes ~2 s alone and far longer on a loaded 2-core machine.
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
