import { defineConfig } from 'vitest/config';

// Unit tests of `npm start` (scripts/start). Run: npx vitest run --config scripts/start/vitest.config.ts
export default defineConfig({
  test: {
    name: 'start',
    root: import.meta.dirname,
    include: ['**/*.test.ts'],
    testTimeout: 20_000,
  },
});
