import { configDefaults, defineConfig } from 'vitest/config';
import { SOURCE_CONDITION } from './scripts/lib.mjs';

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the compiled dist/ is for
  // production); vitest adds its own server conditions after this one.
  ssr: { resolve: { conditions: [SOURCE_CONDITION] } },
  test: {
    include: ['apps/**/src/**/*.test.ts', 'packages/**/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The images built and run with podman take minutes of builds: `npm run test:images`.
    exclude: [...configDefaults.exclude, 'test/images/**'],
    // One redis-server and one S3-protocol server for the whole run; each test file
    // isolates itself with its own queue prefix, bucket prefix or directory.
    globalSetup: ['test/support/global-setup.ts'],
    // Limits that catch a hang, never a verdict on speed: an end-to-end test's own waits
    // (for states and events) decide, and a machine taken by other work may take several
    // times as long as an idle one. Polls wait as long (expect.poll's 1 s default would turn
    // a slow render into a failure).
    testTimeout: 300_000,
    hookTimeout: 600_000,
    expect: { poll: { timeout: 60_000, interval: 100 } },
    pool: 'forks',
    // End-to-end files start their own API and worker processes: two at a time on two cores.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
