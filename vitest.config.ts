import { defineConfig } from 'vitest/config';

// One run over every workspace; each package keeps its own vitest.config.ts so that
// `npm test -w <package>` works on its own too.
export default defineConfig({
  test: {
    projects: [
      'hardware',
      'firmware-ts',
      'protocol',
      'gateway',
      'fleet-server',
      'provisioning',
      'release',
      'flows',
      'scripts/start',
      'scripts/chaos',
    ],
  },
});
