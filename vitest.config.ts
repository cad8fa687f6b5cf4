import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'scripts/**/*.test.ts',
      'firmware/**/*.test.ts',
      'cli/src/**/*.test.ts',
      'gateway/src/**/*.test.ts',
      'cloud/src/**/*.test.ts',
      'e2e/**/*.test.ts',
    ],
    // Browser tests run one at a time under vitest.browser.config.ts (npm test runs both).
    exclude: ['**/node_modules/**', 'firmware/assembly/**', 'firmware/build/**', '**/*.browser.test.ts'],
    testTimeout: 20_000,
  },
});
