import { defineConfig } from 'vitest/config';

// Tests of `npm run chaos` (scripts/chaos), the short chaos run among them.
// Run: npx vitest run --project chaos
export default defineConfig({
  test: {
    name: 'chaos',
    root: import.meta.dirname,
    include: ['**/*.test.ts'],
    testTimeout: 20_000,
  },
});
