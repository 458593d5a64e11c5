import { defineConfig } from 'vitest/config';
import { SOURCE_CONDITION } from './scripts/lib.mjs';

// `npm run test:images` (scripts/test-images.mjs): the images built with podman and run as the
// compose stack. Minutes of builds, so not in `npm test` (vitest.config.ts leaves test/images
// out); CI runs it after the suite (.ci/run). It starts its own Redis and S3 in containers.
export default defineConfig({
  ssr: { resolve: { conditions: [SOURCE_CONDITION] } },
  test: {
    include: ['test/images/**/*.test.ts'],
    // Limits against a hang only: a cold build of both targets takes minutes on 2 cores.
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
  },
});
