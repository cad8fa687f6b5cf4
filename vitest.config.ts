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
    exclude: ['**/node_modules/**', 'firmware/assembly/**', 'firmware/build/**'],
    testTimeout: 20_000,
  },
});
