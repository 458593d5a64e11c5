import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/**/src/**/*.test.ts', 'packages/**/src/**/*.test.ts', 'test/**/*.test.ts'],
    // One redis-server and one S3-protocol server for the whole run; each test file
    // isolates itself with its own queue prefix, bucket prefix or directory.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // End-to-end files start their own API and worker processes: two at a time on two cores.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
