import { defineConfig } from 'vitest/config';

// Tests mirror src/ (one test file per module where it has logic of its own); test/e2e drives
// the built CLI (npm test builds first); every shared helper is in test/helpers/.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Records tests skipped for a missing peer and prints why at the end (test/helpers/peers.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start real launchers and services on a 2-core machine:
    // keep parallelism modest so deadlines measure the product, not the box.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
