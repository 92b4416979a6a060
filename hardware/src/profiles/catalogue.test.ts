// One test walks the whole catalogue (STYLE point 2): every profile file loads, validates, keeps its
// invariants, and every Modbus point survives the trip through the simulator's encoder and the
// poller's decoder.
import { describe, expect, it } from 'vitest';
import { decodePoint, encodePoint, registerCount } from '../registers/index.ts';
import { simValueRange } from './invariants.ts';
import { checkCatalogue, DEFAULT_PROFILES_DIR, listProfileFiles, loadProfileFile } from './loader.ts';
import type { DeviceProfile, ModbusProfile } from './types.ts';

const check = checkCatalogue(DEFAULT_PROFILES_DIR);
const profiles = [...check.profiles.values()];
const modbus = profiles.filter((p): p is ModbusProfile => p.kind === 'modbus');

describe('catalogue: every profile file', () => {
  it('loads without errors', () => {
    expect(check.errors.map((e) => e.describeAll())).toEqual([]);
  });

  it('holds the device families the platform needs', () => {
    const ids = [...check.profiles.keys()];
    for (const id of [
      'eastron-sdm120',
      'eastron-sdm630',
      'carlo-gavazzi-em24',
      'carlo-gavazzi-em340',
      'xy-md02',
      'senseair-s8',
      'tuf-2000m',
      's0-electricity-1000',
      's0-water-10l',
      'optical-priority-detector',
      'priority-radio-receiver',
    ]) {
      expect(ids).toContain(id);
    }
    const kinds = new Set(profiles.map((p) => p.kind));
    expect([...kinds].sort()).toEqual(['modbus', 'optical-detector', 's0', 'serial-radio']);
  });

  it('every file in the tree is in the catalogue (nothing skipped silently)', () => {
    expect(listProfileFiles(DEFAULT_PROFILES_DIR)).toHaveLength(check.profiles.size);
  });

  it('names the source document it came from', () => {
    for (const p of profiles) expect(p.docs.length, p.id).toBeGreaterThan(10);
  });

  it('the copy-me template is a valid profile too', () => {
    const t = loadProfileFile(`${DEFAULT_PROFILES_DIR}/_template.yaml`) as DeviceProfile;
    expect(t.kind).toBe('modbus');
  });
});

describe.each(modbus.map((p) => [p.id, p] as const))('catalogue: %s', (_id, profile) => {
  it('every point fits one read and the address space', () => {
    for (const pt of profile.points) {
      const n = registerCount(pt.type, pt.words);
      expect(n).toBeLessThanOrEqual(profile.bus.maxRegistersPerRead);
      expect(pt.address + n).toBeLessThanOrEqual(0x10000);
    }
  });

  it('every point round-trips: sim-range value → encodePoint → decodePoint → same value, quality good', () => {
    for (const pt of profile.points) {
      const sim = pt.sim;
      const values: (number | string)[] = [];
      if (pt.type === 'str') values.push(sim && 'constant' in sim ? sim.constant : 'BRANA');
      else {
        const range = simValueRange(pt);
        expect(range, `${pt.key} has no value range`).toBeDefined();
        const [lo, hi] = range!;
        values.push(lo, hi, lo + (hi - lo) / 3);
      }
      for (const v of values) {
        const regs = encodePoint(pt, v);
        expect(regs.length).toBe(registerCount(pt.type, pt.words));
        const back = decodePoint(pt, regs);
        expect(back.quality, `${pt.key} = ${v}`).toBe('good');
        if (typeof v === 'string') expect(back.value).toBe(v);
        else {
          // Integer registers quantise to the scale; float32 keeps ~7 significant digits.
          const tol =
            pt.type === 'f32'
              ? Math.max(Math.abs(v) * 2 ** -23, 1e-6)
              : pt.type === 'f64'
                ? 1e-9
                : pt.scale / 2 + 1e-9;
          expect(Math.abs((back.value as number) - v), `${pt.key} = ${v}`).toBeLessThanOrEqual(tol);
        }
      }
    }
  });

  it('a NaN sentinel, where declared, reads as bad', () => {
    for (const pt of profile.points.filter((p) => p.nan !== undefined)) {
      const sentinel = typeof pt.nan === 'number' ? pt.nan : pt.nan![0]!;
      const regs = encodePoint({ type: pt.type, wordOrder: pt.wordOrder }, sentinel);
      expect(decodePoint(pt, regs)).toMatchObject({ value: null, quality: 'bad' });
    }
  });
});

// The bench engineer extends this block: serve each profile from the real Modbus simulator (RTU on a
// pty and TCP) and read every point back through the poller's decoder.
describe('catalogue through the bench simulator', () => {
  it('has Modbus profiles to serve', () => {
    expect(modbus.length).toBeGreaterThanOrEqual(7);
  });
});
