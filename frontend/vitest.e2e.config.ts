import { defineConfig } from 'vitest/config';

// End-to-end tests drive Debian's Chromium against the real backend binary.
// They share one server and run one file at a time on a 2-core machine.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './e2e/summary-reporter.ts'],
  },
});
