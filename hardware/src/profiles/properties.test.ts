// Property tests of the pure parts of the profile layer: unit inference, the overlap invariant and
// the validator's promise to answer any input with a profile or a ProfileError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProfileError } from '../errors.ts';
import { REGISTER_TYPES, registerCount } from '../registers/index.ts';
import { checkProfileInvariants } from './invariants.ts';
import { validateProfile } from './loader.ts';
import type { ModbusPoint, ModbusProfile } from './types.ts';
import { UNIT_SUFFIX, UNITS, unitFromKey } from './units.ts';

describe('unitFromKey', () => {
  it('a lower-case stem plus a unit suffix gives that unit', () => {
    const withSuffix = UNITS.filter((u) => UNIT_SUFFIX[u] !== '');
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,12}$/), fc.constantFrom(...withSuffix), (stem, unit) => {
        expect(unitFromKey(stem + UNIT_SUFFIX[unit])).toBe(unit);
      }),
    );
  });
  it('an all lower-case key has no unit', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,16}$/), (key) => {
        expect(unitFromKey(key)).toBe('');
      }),
    );
  });
});

const numericTypes = REGISTER_TYPES.filter((t) => t !== 'str');

function profileOf(points: ModbusPoint[]): ModbusProfile {
  return {
    id: 'p',
    vendor: 'v',
    model: 'm',
    docs: 'd',
    kind: 'modbus',
    bus: {
      maxRegistersPerRead: 125,
      gapFill: 0,
      readableHoles: false,
      timeoutMs: 1000,
      interFrameDelayMs: 0,
      defaultBaud: 9600,
      baudRates: [9600],
      parity: 'none',
      dataBits: 8,
      stopBits: 1,
      defaultUnitId: 1,
      transports: ['rtu'],
    },
    defaults: { functionCode: 4, type: 'u16', wordOrder: 'big', poll: 'fast' },
    points,
    sim: { turnaroundMs: [10, 40] },
  };
}

describe('overlap invariant', () => {
  it('reports an overlap exactly when two points of one function code share a register', () => {
    const point = fc.record({
      address: fc.integer({ min: 0, max: 40 }),
      type: fc.constantFrom(...numericTypes),
      functionCode: fc.constantFrom(3 as const, 4 as const),
    });
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 8 }), (raw) => {
        const points: ModbusPoint[] = raw.map((r, i) => ({
          key: `p${i}`,
          address: r.address,
          functionCode: r.functionCode,
          type: r.type,
          wordOrder: 'big',
          scale: 1,
          offset: 0,
          unit: '',
          kind: 'gauge',
          poll: 'fast',
          range: [0, 1],
          writable: false,
        }));
        const used = new Set<string>();
        let overlaps = false;
        for (const p of points) {
          for (let a = p.address; a < p.address + registerCount(p.type); a++) {
            const k = `${p.functionCode}:${a}`;
            if (used.has(k)) overlaps = true;
            used.add(k);
          }
        }
        const issues = checkProfileInvariants(profileOf(points));
        expect(issues.some((i) => i.message.includes('overlaps'))).toBe(overlaps);
      }),
    );
  });
});

describe('validateProfile', () => {
  it('answers any input with a profile or a ProfileError, never anything else', () => {
    fc.assert(
      fc.property(fc.anything(), (data) => {
        try {
          validateProfile(data);
        } catch (e) {
          expect(e).toBeInstanceOf(ProfileError);
          expect((e as ProfileError).issues.length).toBeGreaterThan(0);
        }
      }),
    );
  });
  it('answers near-miss profiles (one field mangled) with an issue on or above that field', () => {
    const good = {
      id: 'm',
      vendor: 'v',
      model: 'm',
      docs: 'd',
      kind: 'modbus',
      points: [{ key: 'powerW', address: 0, range: [0, 10] }],
    } as const;
    fc.assert(
      fc.property(
        fc.constantFrom('id', 'vendor', 'kind', 'points', 'bus', 'defaults'),
        fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })),
        (field, value) => {
          const data: Record<string, unknown> = { ...good, [field]: value };
          try {
            validateProfile(data);
          } catch (e) {
            expect(e).toBeInstanceOf(ProfileError);
            const paths = (e as ProfileError).issues.map((i) => i.path);
            expect(paths.some((p) => p === '' || p.startsWith(field))).toBe(true);
          }
        },
      ),
    );
  });
});
