import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'flows',
    include: ['src/**/*.test.ts', 'integration/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    passWithNoTests: true,
  },
});
