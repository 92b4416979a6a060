import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HalConfigError } from '../../errors.ts';
import { checkRange, checkRegisterValues, checkUnitId } from './request-checks.ts';

describe('Modbus request checks', () => {
  it('a block is accepted exactly when it is inside 0..65535 and 1..max long', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.double({ noNaN: false })),
        fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double({ noNaN: false })),
        fc.constantFrom(125, 2000),
        (address, count, max) => {
          const valid =
            Number.isInteger(address) &&
            address >= 0 &&
            address <= 0xffff &&
            Number.isInteger(count) &&
            count >= 1 &&
            count <= max &&
            address + count <= 0x10000;
          let thrown: unknown;
          try {
            checkRange(address, count, max);
          } catch (e) {
            thrown = e;
          }
          expect(thrown === undefined).toBe(valid);
          if (!valid) {
            expect(thrown).toBeInstanceOf(HalConfigError);
            expect((thrown as HalConfigError).message).toMatch(/^(address|count): .*Fix: /);
          }
        },
      ),
    );
  });

  it('register values must be 16-bit unsigned integers; the error names the index', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -10, max: 70_000 }), { maxLength: 10 }), (values) => {
        const bad = values.findIndex((v) => v < 0 || v > 0xffff);
        if (bad < 0) expect(() => checkRegisterValues(values)).not.toThrow();
        else expect(() => checkRegisterValues(values)).toThrow(new RegExp(`^values\\[${bad}\\]`));
      }),
    );
  });

  it('unit 0 is broadcast: allowed for writes, refused for reads', () => {
    expect(() => checkUnitId(0, true)).not.toThrow();
    expect(() => checkUnitId(0, false)).toThrow(/broadcast/);
    expect(() => checkUnitId(256, true)).toThrow(/0-255/);
    expect(() => checkUnitId(1.5, false)).toThrow(HalConfigError);
  });
});
