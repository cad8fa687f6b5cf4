import { defineConfig } from 'vitest/config';

// hw-tests talk to boards over serial ports. Files run one at a time: with HW_PORT there is one real
// board, and posix boards are processes (2 cores in CI). No timing assertions anywhere; the timeouts
// only stop a wedged run.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['./src/global-setup.ts'],
  },
});
