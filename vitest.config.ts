import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-redis.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores: files run two at a time; each builds its own nodes on port 0 under its own Redis key prefix.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
