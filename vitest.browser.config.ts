import { defineConfig } from 'vitest/config';

// The dashboard's browser tests (@ferry/test-kit/browser): one file at a time, so one chromium runs at once.
export default defineConfig({
  test: {
    include: ['cloud/src/**/*.browser.test.ts', 'packages/*/src/**/*.browser.test.ts', 'gateway/src/**/*.browser.test.ts', 'e2e/**/*.browser.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `npm test` runs this config after the main one, so arguments given to `npm test` reach the main run only;
    // FERRY_BROWSER_REPORT names a JSON report for this one (.ci/run counts it with the others).
    ...(process.env['FERRY_BROWSER_REPORT'] !== undefined && {
      reporters: ['default', 'json'],
      outputFile: { json: process.env['FERRY_BROWSER_REPORT'] },
    }),
  },
});
