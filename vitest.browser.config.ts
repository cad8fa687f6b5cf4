import { defineConfig } from 'vitest/config';

// The dashboard's browser tests (@ferry/test-kit/browser): one file at a time, so one chromium runs at once.
export default defineConfig({
  test: {
    include: ['cloud/src/**/*.browser.test.ts', 'packages/*/src/**/*.browser.test.ts', 'gateway/src/**/*.browser.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
