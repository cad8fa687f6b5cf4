import { defineConfig } from 'vitest/config';

// test:chaos runs on its own (npm run test:chaos, and in .ci/run): one system, the attacks in turn.
export default defineConfig({
  test: {
    include: ['chaos/**/*.test.ts'],
    testTimeout: 60_000,
    fileParallelism: false,
  },
});
