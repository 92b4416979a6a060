import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HalConfigError } from '../errors.ts';
import { parseHalConfig } from './create-hal.ts';

const validConfig = fc.record(
  {
    clock: fc.constantFrom('real', 'virtual'),
    serial: fc.constantFrom('native', 'memory'),
    gpio: fc.oneof(
      fc.record({ backend: fc.constant('sysfs') }, { requiredKeys: ['backend'] }),
      fc.record({ backend: fc.constant('sysfs'), gpioBase: fc.constantFrom(0, 512, 571) }),
      fc.record({ backend: fc.constant('bench'), socketPath: fc.string({ minLength: 1 }) }),
      fc.record({ backend: fc.constant('memory') }),
    ),
  },
  { requiredKeys: ['gpio'] },
);

describe('parseHalConfig', () => {
  it('accepts every valid configuration and fills the defaults', () => {
    fc.assert(
      fc.property(validConfig, (config) => {
        const parsed = parseHalConfig(config);
        expect(parsed.gpio).toEqual(config.gpio);
        expect(parsed.clock).toBe(config.clock ?? 'real');
        expect(parsed.serial).toBe(config.serial ?? 'native');
      }),
    );
  });

  it('rejects anything else with a HalConfigError that names a path under the given root and a fix', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          validConfig.map((c) => ({ ...c, extra: 1 })),
          validConfig.map((c) => ({ ...c, gpio: { ...c.gpio, backend: 'gpiod' } })),
          validConfig.map((c) => ({ ...c, clock: 'fast' })),
        ),
        (input) => {
          let thrown: unknown;
          let parsed: unknown;
          try {
            parsed = parseHalConfig(input, 'site.hal');
          } catch (e) {
            thrown = e;
          }
          if (thrown === undefined) {
            // fc.anything() can, rarely, produce a valid configuration.
            expect(parsed).toBeDefined();
            return;
          }
          expect(thrown).toBeInstanceOf(HalConfigError);
          expect((thrown as Error).message).toMatch(/^site\.hal.*: .+\. Fix: .+/s);
        },
      ),
    );
  });
});
